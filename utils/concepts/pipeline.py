"""A pocket-sized pipeline that walks raw web-shop events through every lifecycle stage.

Raw lines arrive in a messy text format (some are malformed, as in real life);
the pipeline ingests (parses), stores, transforms (cleans and aggregates) and
serves a small answer a marketing analyst could use. Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

PAGES = ("home", "catalog", "product/1952-alpine", "product/1969-ford", "cart", "checkout")
_PAGE_WEIGHTS = (30, 25, 14, 14, 11, 6)  # most visitors browse, few buy


@dataclass(frozen=True)
class Event:
    """A parsed click event."""

    minute: int
    user: str
    page: str


def generate_raw_events(n: int = 40, *, seed: int = 42) -> list[str]:
    """Generate ``n`` raw log lines ``minute|user|page``; about 1 in 10 is damaged."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        minute, user, page = (
            i * 3 + rng.randint(0, 2),
            f"u{rng.randint(1, 6)}",
            rng.choices(PAGES, weights=_PAGE_WEIGHTS)[0],
        )
        fault = rng.random()
        if fault < 0.04:
            lines.append(f"{minute}|{user}")  # a truncated line
        elif fault < 0.07:
            lines.append(f"??|{user}|{page}")  # a corrupted timestamp
        elif fault < 0.10:
            lines.append(f"{minute}| |{page}")  # a missing user
        else:
            lines.append(f"{minute}|{user}|{page}")
    return lines


def parse_line(line: str) -> Event | None:
    """Ingest one raw line: return an Event, or None when the line is unusable."""
    parts = line.split("|")
    if len(parts) != 3:
        return None
    minute, user, page = (p.strip() for p in parts)
    if not minute.isdigit() or not user or page not in PAGES:
        return None
    return Event(int(minute), user, page)


@dataclass(frozen=True)
class PipelineRun:
    """What each stage of one run did."""

    raw_lines: int
    ingested: int
    rejected: list[str]
    stored: list[Event]
    page_views: dict[str, int]
    funnel: dict[str, int]


def run_pipeline(raw_lines: list[str]) -> PipelineRun:
    """Run ingestion -> storage -> transformation -> serving over raw lines."""
    parsed = [(line, parse_line(line)) for line in raw_lines]
    rejected = [line for line, event in parsed if event is None]
    stored = sorted((e for _, e in parsed if e is not None), key=lambda e: (e.minute, e.user))
    views = Counter("product" if e.page.startswith("product/") else e.page for e in stored)
    page_views = {page: views[page] for page in ("home", "catalog", "product", "cart", "checkout")}
    users_at = {
        step: {e.user for e in stored if e.page.startswith(step)} for step in ("product", "cart", "checkout")
    }
    funnel = {f"users who reached {step}": len(users) for step, users in users_at.items()}
    return PipelineRun(len(raw_lines), len(stored), rejected, stored, page_views, funnel)
