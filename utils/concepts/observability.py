"""Data observability in miniature: learn what "normal" looks like from a table's history.

Tools such as Monte Carlo or Bigeye watch every table's metadata (how many rows each load
brought, when the table last changed) and alert when today does not look like the past,
without anyone writing a rule per table. :func:`volume_anomalies` is the core of such a
monitor for volume (a z-score against a trailing window); :func:`late_loads` does the
same for freshness. :func:`load_history` simulates the nightly loads of the lab's fact
table with a few incidents planted in it.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    """One nightly load of a table: the day, the rows it added, and the hour it finished."""

    day: int
    rows: int
    finished_hour: float  # hours after midnight


def load_history(days: int = 60, seed: int = 11, base_rows: int = 3000) -> tuple[list[Load], dict[int, str]]:
    """``(loads, incidents)``: a simulated history of nightly loads, and the planted incidents by day.

    Normal nights add about ``base_rows`` rows (a few percent of noise) and finish near
    02:00. Planted: a partial load (about 40% of the rows), a duplicated load (about twice
    the rows) and a load that finished late in the morning. A day with no load at all is
    missing from the list: that is a freshness incident too.
    """
    rng = random.Random(seed)
    if days < 30:
        raise ValueError("Give at least 30 days of history, so a baseline exists before the incidents.")
    partial, duplicate, late, missing = days - 19, days - 11, days - 5, days - 3
    incidents = {partial: "volume: partial load", duplicate: "volume: loaded twice",
                 late: "freshness: finished late", missing: "freshness: no load at all"}
    loads = []
    for day in range(days):
        if day == missing:
            continue
        rows = round(base_rows * rng.uniform(0.95, 1.05))
        if day == partial:
            rows = round(rows * 0.4)
        elif day == duplicate:
            rows *= 2
        finished = 2.0 + rng.uniform(-0.3, 0.3) + (8.5 if day == late else 0.0)
        loads.append(Load(day, rows, round(finished, 2)))
    return loads, incidents


def volume_anomalies(counts: Sequence[float], window: int = 7, z: float = 3.0) -> list[int]:
    """Indices of the counts more than ``z`` standard deviations from the previous ``window`` counts.

    For each index ``i >= window``, the baseline is ``counts[i - window:i]`` (the past only,
    never day ``i`` itself); its mean and population standard deviation (``statistics.pstdev``,
    numpy's default) give the z-score ``|counts[i] - mean| / std``. Spikes and drops both
    count. When the baseline never varied (std 0), any different count is an anomaly.
    """
    if window < 2:
        raise ValueError("window must be at least 2 (a standard deviation needs two values).")
    flagged = []
    for i in range(window, len(counts)):
        baseline = counts[i - window:i]
        mean, std = statistics.fmean(baseline), statistics.pstdev(baseline)
        if (std == 0 and counts[i] != mean) or (std > 0 and abs(counts[i] - mean) / std > z):
            flagged.append(i)
    return flagged


def late_loads(loads: Sequence[Load], max_gap_hours: float = 26.0) -> list[tuple[int, float]]:
    """``(day, hours since the previous load)`` for every load that came more than ``max_gap_hours`` late.

    A nightly table should change about every 24 hours; the gap between two finished loads
    tells how stale the table was just before the second one. A missing night shows up as
    a gap of about 48 hours on the next load.
    """
    gaps = []
    for before, after in zip(loads, loads[1:], strict=False):
        gap = (after.day - before.day) * 24 + after.finished_hour - before.finished_hour
        if gap > max_gap_hours:
            gaps.append((after.day, round(gap, 2)))
    return gaps
