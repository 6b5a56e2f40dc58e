"""Service errors in AWS's shape, neutral ground between the endpoint and the models.

A model (Athena, Glue jobs and crawlers, RDS) raises :class:`ServiceError` or a
subclass; the endpoint (:mod:`utils.cloud.server`) turns it into the protocol's
error answer. Models import this module, never the server (moto's
``core/exceptions.py`` role).
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An AWS-style error: ``code`` becomes ``__type``, ``message`` the text."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra
