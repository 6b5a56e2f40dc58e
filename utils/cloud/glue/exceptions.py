"""Glue errors in AWS's shape (``__type`` + message), as moto's ``exceptions.py``.

They subclass the neutral :class:`~utils.cloud.exceptions.ServiceError` so the
responses layer can raise them unchanged; the models raise them too, because the
error *code* is part of the behaviour a client relies on (``ConcurrentRunsExceededException`` ...).
"""

from __future__ import annotations

from typing import Any

from utils.cloud.exceptions import ServiceError


class GlueError(ServiceError):
    """Base of the Glue errors raised by our models."""


class EntityNotFound(GlueError):
    """A job, run or crawler that does not exist."""

    def __init__(self, message: str) -> None:
        super().__init__("EntityNotFoundException", message)


class InvalidInput(GlueError):
    """A request Glue would reject as malformed."""

    def __init__(self, message: str) -> None:
        super().__init__("InvalidInputException", message)


class ConcurrentRunsExceeded(GlueError):
    """More simultaneous runs than the job's ``ExecutionProperty.MaxConcurrentRuns``."""

    def __init__(self, message: str) -> None:
        super().__init__("ConcurrentRunsExceededException", message)


class CrawlerRunning(GlueError):
    """StartCrawler while the crawler is already running."""

    def __init__(self, message: str) -> None:
        super().__init__("CrawlerRunningException", message)


class CrawlerNotRunning(GlueError):
    """StopCrawler while the crawler is idle."""

    def __init__(self, message: str) -> None:
        super().__init__("CrawlerNotRunningException", message)


def from_moto(exc: Exception) -> ServiceError:
    """Turn one of moto's ``JsonRESTError`` into our ``ServiceError`` (same code and text).

    Our handlers call moto's models directly, so moto's errors (job not found ...)
    reach us as exceptions instead of HTTP responses; without this translation
    the endpoint would answer 500 InternalServerException.
    """
    code: Any = getattr(exc, "error_type", None) or type(exc).__name__
    status: Any = getattr(exc, "code", 400)
    message = getattr(exc, "message", None) or str(exc)
    return ServiceError(str(code), str(message), int(status) if isinstance(status, int) else 400)
