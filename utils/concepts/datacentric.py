"""Data-centric AI in miniature: the same small model, trained on broken data and on fixed data.

The web shop wants to predict, from how long a visit lasts, whether the visitor will buy. The
training log has two defects real logs have: one web server (``web-2``) records the duration in
**seconds** while the other records minutes, and a retry in ingestion logged some sessions
**twice**. :func:`fit_threshold` and :func:`fit_best_threshold` are two models (a simple one and a
more careful one); :func:`clean_sessions` fixes the data. Lesson 01 compares "more data" and "a
better model" with "better data", all scored on a clean test log.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

SECONDS_SERVER = "web-2"
"""The server that logs durations in seconds instead of minutes."""


@dataclass(frozen=True)
class Session:
    """One visit: its id, the server that logged it, how long it lasted, and whether the visitor bought."""

    session_id: str
    server: str
    duration: float  # minutes, except on SECONDS_SERVER where the log holds seconds
    bought: bool


def generate_sessions(n: int, *, seed: int, defects: bool = True) -> list[Session]:
    """``n`` visits; buyers stay longer (about 14 minutes against 5). Deterministic for a seed.

    With ``defects`` (a training log as it arrives), ``web-2`` durations are in seconds and about
    1 visit in 10 is logged twice; without them (the clean test log) every duration is in minutes.
    """
    rng = random.Random(seed)
    sessions = []
    for i in range(n):
        bought = rng.random() < 0.3
        minutes = max(0.5, rng.gauss(14, 4) if bought else rng.gauss(5, 3))
        server = SECONDS_SERVER if rng.random() < 0.35 else "web-1"
        duration = minutes * 60 if defects and server == SECONDS_SERVER else minutes
        session = Session(f"s{seed}-{i:05d}", server, round(duration, 1), bought)
        sessions.append(session)
        if defects and rng.random() < 0.1:
            sessions.append(session)  # a retry ingested the same visit again
    return sessions


def clean_sessions(sessions: Sequence[Session]) -> list[Session]:
    """The reference fix: each session once (first copy kept), every duration in minutes."""
    seen: set[str] = set()
    cleaned = []
    for session in sessions:
        if session.session_id in seen:
            continue
        seen.add(session.session_id)
        if session.server == SECONDS_SERVER:
            session = replace(session, duration=session.duration / 60)
        cleaned.append(session)
    return cleaned


def fit_threshold(sessions: Sequence[Session]) -> float:
    """The simple model: halfway between the buyers' and the non-buyers' mean duration."""
    buyers = [s.duration for s in sessions if s.bought]
    others = [s.duration for s in sessions if not s.bought]
    if not buyers or not others:
        raise ValueError("the model needs sessions of buyers and of non-buyers to learn from.")
    return (sum(buyers) / len(buyers) + sum(others) / len(others)) / 2


def fit_best_threshold(sessions: Sequence[Session]) -> float:
    """The more careful model: the threshold that classifies the most training sessions right."""
    if not sessions:
        raise ValueError("the model needs sessions to learn from.")
    candidates = sorted({s.duration for s in sessions})
    return max(candidates, key=lambda t: (accuracy(t, sessions), -t))


def accuracy(threshold: float, sessions: Sequence[Session]) -> float:
    """Share of sessions the model gets right: it predicts a purchase when duration >= threshold."""
    if not sessions:
        raise ValueError("accuracy needs at least one session.")
    return sum((s.duration >= threshold) == s.bought for s in sessions) / len(sessions)
