"""Graders of lesson 10 (``10_serving_security_and_data_quality``).

1. ``dashboard_choices``: pick QuickSight, Superset or Metabase for three teams, graded element
   by element against :func:`utils.concepts.serving.pick_dashboard_tool`.
2. ``nearest``: exact nearest-neighbour search by cosine similarity (what a vector database
   answers), against :func:`utils.concepts.serving.nearest_neighbours`.
3. ``probe``: ask the real MariaDB whether an account may run a statement, graded as the
   lab's read-only ``etl`` user and as its ``admin`` against
   :func:`utils.concepts.security.probe_privilege`. (The lab's admin may not GRANT or CREATE
   USER, on purpose, so the exercise proves refusals rather than granting; see the lesson.)
4. ``find_defects``: a data-quality suite (completeness, uniqueness, timeliness), graded on
   customer rows with planted defects against :func:`utils.concepts.quality.flagged`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from utils.concepts import quality, security, serving
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: a data-quality suite ---------------------------------------------------------------

DIMENSION_SYNONYMS = {"freshness": "timeliness", "complete": "completeness", "unique": "uniqueness"}


def _as_pairs(found: Any, rows: list[dict[str, Any]]) -> set[tuple[int, str]]:
    """The learner's flags as a set of (row index, dimension), or a clear error."""
    assert isinstance(found, Iterable) and not isinstance(found, str | bytes | dict), (
        f"find_defects should return a set of (row, dimension) pairs such as {{(3, 'completeness')}}, "
        f"not a {type(found).__name__}."
    )
    pairs = set()
    for item in found:
        assert isinstance(item, tuple | list) and len(item) == 2, (
            f"Each flag should be a pair (row index, dimension), like (3, 'completeness'); got {item!r}."
        )
        row, dimension = item
        assert isinstance(dimension, str), (
            f"The second item of a flag is the dimension's name ('completeness', 'uniqueness' or "
            f"'timeliness'); got {dimension!r} in {item!r}."
        )
        dimension = DIMENSION_SYNONYMS.get(dimension.strip().lower(), dimension.strip().lower())
        assert dimension in ("completeness", "uniqueness", "timeliness"), (
            f"Unknown dimension {item[1]!r} in {item!r}: use 'completeness', 'uniqueness' or 'timeliness'."
        )
        numbers = {r["customerNumber"] for r in rows}
        assert isinstance(row, int | np.integer) and 0 <= row < len(rows), (
            f"The first item of a flag is the row's position in the list (0 to {len(rows) - 1}); got {row!r}."
            + (" That is a customerNumber: return the row's index instead, since numbers repeat."
               if row in numbers else "")
        )
        pairs.add((int(row), dimension))
    return pairs


def _describe_row(row: dict[str, Any], now: float) -> str:
    age = now - row["updated_at"]
    return (f"customerNumber={row['customerNumber']}, email={row['email']!r}, "
            f"country={row['country']!r}, updated {age:g} h before now")


@grader("l10_ex4_find_defects", max_score=1)
def grade_find_defects(find_defects: Callable[[list[dict[str, Any]], float], Any]) -> str:
    """``find_defects(rows, now)`` must flag exactly what :func:`quality.flagged` flags."""
    assert callable(find_defects), (
        "find_defects should be a function (def find_defects(rows, now): ...), "
        f"not {type(find_defects).__name__}."
    )
    datasets = [("the lesson's sample", *_lesson_sample())]
    datasets += [(f"planted rows (seed {seed})", *quality.planted_customers(seed)[:2])
                 for seed in (3, 11, 29)]
    for label, rows, now in datasets:
        expected = quality.flagged(rows, now)
        got = _as_pairs(find_defects([dict(r) for r in rows], now), rows)
        missing, extra = sorted(expected - got), sorted(got - expected)
        if not missing and not extra:
            continue
        seen: dict[Any, int] = {}
        first_of = {}
        for i, r in enumerate(rows):
            first_of[i] = seen.setdefault(r["customerNumber"], i) == i
        for row, dim in extra:
            r = rows[row]
            if dim == "uniqueness" and first_of[row]:
                raise AssertionError(
                    f"On {label} you flagged row {row} ({_describe_row(r, now)}) for uniqueness, "
                    "but it is the first row with that number: flag only the repeats (the later rows), "
                    "so the first copy is kept."
                )
            if dim == "timeliness" and now - r["updated_at"] == quality.MAX_AGE_HOURS:
                raise AssertionError(
                    f"On {label} you flagged row {row} as stale, but it was updated exactly "
                    f"{quality.MAX_AGE_HOURS} h before now: the limit is 'at most {quality.MAX_AGE_HOURS} "
                    "hours old', so use > (older than the limit), not >=."
                )
        for row, dim in missing:
            r = rows[row]
            others = sorted(d for i, d in got & expected if i == row)
            if others:
                raise AssertionError(
                    f"On {label} row {row} ({_describe_row(r, now)}) is flagged for {', '.join(others)} but "
                    f"not for {dim}: a row can fail several dimensions. Test each dimension on its own "
                    "(three ifs, not if/elif), and add a flag for every one that fails."
                )
            if dim == "completeness" and any(r.get(c) == "" for c in quality.REQUIRED_COLUMNS):
                raise AssertionError(
                    f"On {label} row {row} ({_describe_row(r, now)}) is not flagged for completeness: "
                    "an empty string is missing too, test `value in (None, '')` (or `not value`), "
                    "not only `is None`."
                )
            if dim == "completeness" and r.get("country") is None:
                raise AssertionError(
                    f"On {label} row {row} has no country and is not flagged: every required column "
                    f"({', '.join(quality.REQUIRED_COLUMNS)}) must be filled, not only the email."
                )
            if dim == "timeliness":
                raise AssertionError(
                    f"On {label} row {row} ({_describe_row(r, now)}) is stale but not flagged: "
                    f"a row is stale when now - updated_at > {quality.MAX_AGE_HOURS}."
                )
            if dim == "uniqueness":
                raise AssertionError(
                    f"On {label} row {row} repeats customerNumber {r['customerNumber']} but is not flagged: "
                    "remember every number you have seen (a set) and flag each later row that repeats one, "
                    "including a third copy."
                )
        raise AssertionError(
            f"On {label} you flagged {sorted(got)}, expected {sorted(expected)} "
            f"(missing {missing}, extra {extra})."
        )
    return (
        "find_defects flags exactly the planted defects on every data set: missing and empty values, "
        "each repeat of a key, and rows older than the limit, and leaves the row at the limit alone."
    )


def _lesson_sample() -> tuple[list[dict[str, Any]], float]:
    """The lesson's eight customers, with ``updated_h`` (hours ago) turned into ``updated_at``."""
    now = 100.0
    rows = [{k: v for k, v in r.items() if k != "updated_h"} | {"updated_at": now - r["updated_h"]}
            for r in quality.sample_customers()]
    return rows, now


# --- exercise 2: ask the server ----------------------------------------------------------------------


HIDDEN_PROBES: tuple[tuple[str, str], ...] = (
    ("SELECT COUNT(*) FROM orders", "a read of another source table"),
    ("UPDATE customers SET city = city WHERE customerNumber = -1", "an update that matches no row"),
    ("SELEC 1", "a misspelt statement"),
    ("SHOW GRANTS FOR 'root'@'localhost'", "reading another account's privileges"),
)
"""Statements the lesson does not show (safe as any lab account: none changes anything), so an answer
must ask the server rather than remember the lesson's table."""

_SERVER_STATUS_IN_TRANS = 1
"""The server's "a transaction is open" status flag (pymysql keeps the last status in ``server_status``)."""


def _connections() -> list[tuple[str, Any]]:
    """The accounts the probe is graded as: the read-only ``etl`` user, and ``admin`` in the notebook.

    In the gradebook (``DELAB_GRADING``) the grader runs in the learner's sandbox, whose only way
    to the database is the gateway, which lets the read-only user alone through: graded as ``etl``.
    """
    import os

    from utils.services.mariadb import connect

    connections = [("the read-only etl user", connect("etl"))]
    if not os.environ.get("DELAB_GRADING"):
        connections.append(("the admin user", connect("admin")))
    return connections


@grader("l10_ex3_probe", max_score=1)
def grade_probe(probe: Callable[[Any, str], str]) -> str:
    """``probe(conn, sql)`` must classify each of :data:`security.PROBES` as the server decides."""
    assert callable(probe), (
        f"probe should be a function (def probe(conn, sql): ...), not {type(probe).__name__}."
    )
    connections = _connections()
    try:
        for who, conn in connections:
            for sql, what in (*security.PROBES, *HIDDEN_PROBES):
                expected = security.probe_privilege(conn, sql)
                try:
                    got = probe(conn, sql)
                    left_open = bool(conn.server_status & _SERVER_STATUS_IN_TRANS)
                except Exception as error:
                    raise AssertionError(
                        f"As {who}, probe(conn, {sql!r}) ({what}) raised {type(error).__name__}: {error}. "
                        "Catch the error and decide from its code: a refusal is 'denied', anything else "
                        "'error'."
                    ) from None
                finally:
                    conn.rollback()
                assert not left_open, (
                    f"As {who}, probe(conn, {sql!r}) ({what}) left a transaction open: the change is "
                    "pending, and would be committed by the next commit on this connection. Call "
                    "conn.rollback() in a finally, so a probe never changes anything."
                )
                assert got in ("allowed", "denied", "error"), (
                    f"probe should return 'allowed', 'denied' or 'error'; as {who} it returned {got!r} "
                    f"for {sql!r}."
                )
                if got == expected:
                    continue
                if got == "denied" and expected == "error":
                    raise AssertionError(
                        f"As {who}, {sql!r} ({what}) failed for a reason that is not a privilege: you said "
                        "'denied'. Not every error is a refusal: only the access-denied codes "
                        f"({', '.join(map(str, sorted(security.DENIED_CODES)))}) mean 'denied'; "
                        "1146 (no such table) or 1064 (bad SQL) are 'error'."
                    )
                if got == "error" and expected == "denied":
                    raise AssertionError(
                        f"As {who}, the server refused {sql!r} ({what}) and you said 'error'. Refusals come "
                        "with several codes, not only 1142 (table): 1044 is a refused database and 1227 a "
                        f"refused global privilege; use all of {sorted(security.DENIED_CODES)}."
                    )
                raise AssertionError(
                    f"As {who}, probe(conn, {sql!r}) ({what}) returned {got!r}, expected {expected!r}."
                )
    finally:
        for _, conn in connections:
            conn.close()
    accounts = " and as ".join(who for who, _ in connections)
    return (
        f"probe agrees with the server on all {len(security.PROBES)} statements, as {accounts}: "
        "refusals are told apart from other errors, and nothing was changed."
    )


# --- exercise 3: nearest neighbours -------------------------------------------------------------------


def _vector_cases() -> list[tuple[str, np.ndarray, np.ndarray, int]]:
    rng = np.random.default_rng(10)
    lengths = rng.uniform(0.2, 5.0, size=(40, 1))  # very different lengths: cosine != dot product
    vectors = rng.normal(size=(40, 6)) * lengths
    cases = [("40 random vectors of very different lengths", vectors, rng.normal(size=6), 5)]
    small = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [-1.0, 0.2], [0.7, 0.7]])
    cases.append(("five 2-d vectors (one long, one pointing backwards)", small, np.array([1.0, 0.1]), 3))
    cases.append(("the same 40 vectors, k = 1", vectors, vectors[7] * 3.0, 1))
    return cases


@grader("l10_ex2_nearest", max_score=1)
def grade_nearest(nearest: Callable[[np.ndarray, np.ndarray, int], Any]) -> str:
    """``nearest(query, vectors, k)`` must return the indices :func:`serving.nearest_neighbours` returns."""
    assert callable(nearest), (
        f"nearest should be a function (def nearest(query, vectors, k): ...), not {type(nearest).__name__}."
    )
    for label, vectors, query, k in _vector_cases():
        expected = serving.nearest_neighbours(query, vectors, k)
        raw = nearest(query.copy(), vectors.copy(), k)
        got = [int(i) for i in np.asarray(raw).ravel()] if raw is not None else None
        assert got is not None, f"On {label} nearest returned None: return the list of indices."
        assert all(float(i).is_integer() for i in np.asarray(raw).ravel()), (
            f"On {label} nearest returned {np.asarray(raw).ravel()[:3]}...: return row indices (ints), "
            "not similarity scores."
        )
        if got == expected:
            continue
        assert len(got) == k, (
            f"On {label} nearest returned {len(got)} indices for k={k}: return exactly the k most similar."
        )
        sims = serving.cosine_similarities(query, vectors)
        order_all = [int(i) for i in np.argsort(sims, kind="stable")]
        assert got != order_all[:k], (
            f"On {label} you returned the k LEAST similar rows {got}: sort by similarity in descending "
            "order (np.argsort(-similarities) or [::-1])."
        )
        shifted = serving.nearest_neighbours(query, vectors, k + 1)[1:]
        assert got != shifted, (
            f"On {label} you left out the most similar row ({expected[0]}) and returned the next {k}: return "
            "the k most similar rows, the first one included (argsort(-similarities)[:k], not [1:k + 1])."
        )
        by_abs = [int(i) for i in np.argsort(-np.abs(sims), kind="stable")[:k]]
        assert got != by_abs, (
            f"On {label} you ranked by the absolute cosine ({got}), expected {expected}: a vector pointing "
            "the opposite way has a cosine near -1, the least similar of all; rank by the cosine itself."
        )
        by_dot = [int(i) for i in np.argsort(-(vectors @ query), kind="stable")[:k]]
        assert got != by_dot, (
            f"On {label} you ranked by the dot product ({got}), expected {expected}: a long vector wins a "
            "dot product without pointing the same way. Divide by both lengths (np.linalg.norm) to get "
            "the cosine."
        )
        by_distance = [int(i) for i in np.argsort(np.linalg.norm(vectors - query, axis=1), kind="stable")[:k]]
        assert got != by_distance, (
            f"On {label} you ranked by Euclidean distance ({got}), expected {expected}: the task asks for "
            "cosine similarity, which ignores length and compares directions."
        )
        raise AssertionError(f"On {label} (k={k}) nearest returned {got}, expected {expected}.")
    return "nearest finds the same neighbours as an exact vector search, in the same order."


# --- exercise 4: a dashboard tool for each team ------------------------------------------------------

_TOOL_ALIASES = {
    "quicksight": "Amazon QuickSight", "amazon quicksight": "Amazon QuickSight",
    "aws quicksight": "Amazon QuickSight",
    "superset": "Apache Superset", "apache superset": "Apache Superset", "metabase": "Metabase",
}


@grader("l10_ex1_dashboard_choices", max_score=1)
def grade_dashboard_choices(dashboard_choices: dict[str, str]) -> str:
    """``dashboard_choices`` maps each team of :data:`serving.DASHBOARD_SCENARIOS` to its one fitting tool."""
    assert isinstance(dashboard_choices, dict), (
        "dashboard_choices should be a dict such as "
        "{'finance': 'Metabase', 'product': ..., 'warehouse': ...}, "
        f"not a {type(dashboard_choices).__name__}."
    )
    teams = list(serving.DASHBOARD_SCENARIOS)
    dashboard_choices = {str(team).strip().lower(): tool for team, tool in dashboard_choices.items()}
    assert set(dashboard_choices) == set(teams), (
        f"The keys should be exactly the teams {teams}; yours are {sorted(dashboard_choices)}."
    )
    wrong = []
    for team in teams:
        choice = str(dashboard_choices[team]).strip()
        tool = _TOOL_ALIASES.get(choice.lower())
        assert tool is not None, (
            f"For {team!r} you wrote {choice!r}: answer with one of {list(serving.DASHBOARD_TOOLS)}."
        )
        needs = serving.DASHBOARD_SCENARIOS[team]["needs"]
        (expected,) = serving.pick_dashboard_tool(needs)
        if tool == expected:
            continue
        failed = next(need for need in needs if serving.DASHBOARD_TOOLS[tool][need] is not True)
        licence = serving.DASHBOARD_TOOLS[tool]["licence"]
        wrong.append(f"{team}: {tool} fails '{failed}' (its licence: {licence})")
    assert not wrong, "Not yet: " + "; ".join(wrong) + ". Check each need against the table of facts."
    return "Each team gets the only tool that meets all of its hard requirements."


declare("10_serving_security_and_data_quality", grade_dashboard_choices, grade_nearest, grade_probe,
        grade_find_defects)
