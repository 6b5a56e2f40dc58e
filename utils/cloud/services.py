"""Registration of every service we make real (each module registers its own routes)."""

from __future__ import annotations

_registered = False


def register_all() -> None:
    """Import each executing service and let it register its handlers (idempotent)."""
    global _registered
    if _registered:
        return
    from utils.cloud import athena, glue, rds

    for service in (athena, glue, rds):
        register = getattr(service, "register", None)
        if register is not None:
            register()
    _registered = True
