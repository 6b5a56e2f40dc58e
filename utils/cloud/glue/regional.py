"""What every Glue runner (jobs, crawlers) needs: its region's catalog and the local S3."""

from __future__ import annotations

from utils.cloud.backends import GlueCatalog, ObjectStore
from utils.config import get_settings


class RegionalGlue:
    """Base of the runners: one region of the local cloud's Glue, plus the local S3."""

    def __init__(self, region: str | None = None) -> None:
        self.region = region or get_settings().region

    # Looked up on each use: moto's reset replaces its backends, so a cached one goes stale.
    @property
    def catalog(self) -> GlueCatalog:
        """The region's Glue Data Catalog (moto's Glue backend)."""
        return GlueCatalog(self.region)

    @property
    def store(self) -> ObjectStore:
        """The local S3."""
        return ObjectStore()


class RealState:
    """Mixin for moto models with a ManagedState (job runs, crawls).

    moto advances such states on every read to fake progress; ours change only when the
    real work does, so ``status`` is plain state and ``advance`` does nothing.
    """

    state: str

    @property
    def status(self) -> str:
        """The current state (``JobRunState`` / the crawl's state)."""
        return self.state

    @status.setter
    def status(self, value: str) -> None:
        self.state = value

    def advance(self) -> None:
        """No-op: moto calls it on every read to fake progress."""
