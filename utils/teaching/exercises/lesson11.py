"""Graders of lesson 11 (``11_dataops_orchestration_and_aws_services``).

1. ``order_tasks``: a topological order of ``{task: [tasks it waits for]}``, any valid order
   accepted, a ValueError on a cycle (reference :func:`utils.concepts.dag.topological_order`).
2. ``find_cycle`` and ``fixed_pipeline``: find the loop in the broken lab pipeline and remove
   the one dependency that goes against the data's flow (:func:`utils.concepts.dag.find_cycle`).
3. ``run_with_retries``: retries with exponential backoff and one alert, graded against a flaky
   source on a fake clock (:func:`utils.concepts.dag.run_with_retries`); no real sleeping.
4. ``volume_anomalies``: the z-score volume monitor of a data-observability tool
   (:func:`utils.concepts.observability.volume_anomalies`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from utils.concepts import dag, observability
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: a run order -------------------------------------------------------------------------

ORDER_CASES: tuple[tuple[str, dict[str, list[str]]], ...] = (
    ("the lab's pipeline", dag.LAB_PIPELINE),
    ("the lab's pipeline listed in a shuffled order",
     {t: dag.LAB_PIPELINE[t] for t in ("load parquet", "extract orders", "crawl catalog", "build star",
                                       "extract customers", "quality checks", "extract products")}),
    ("a report that waits for one task, which waits for two",
     {"report": ["clean"], "clean": ["extract a", "extract b"], "extract a": [], "extract b": []}),
    ("a diamond: two branches that share a first task and meet again",
     {"publish": ["left", "right"], "left": ["start"], "right": ["start"], "start": []}),
    ("no tasks at all", {}),
)
CYCLE_CASES: tuple[tuple[str, dict[str, list[str]]], ...] = (
    ("the lab's pipeline with extract orders waiting for quality checks", dag.BROKEN_PIPELINE),
    ("a task that waits for itself", {"a": ["a"], "b": []}),
)


def _copy(deps: dict[str, list[str]]) -> dict[str, list[str]]:
    return {task: list(waits) for task, waits in deps.items()}


@grader("l11_ex1_order_tasks", max_score=1)
def grade_order_tasks(order_tasks: Callable[[dict[str, list[str]]], list[str]]) -> str:
    """Every order must be valid (:func:`dag.is_valid_order`), and a cycle must raise ValueError."""
    assert callable(order_tasks), (
        f"order_tasks should be a function (def order_tasks(deps): ...), not {type(order_tasks).__name__}."
    )
    for label, deps in ORDER_CASES:
        given = _copy(deps)
        got = order_tasks(given)
        assert given == deps, (
            f"On {label} order_tasks changed the dict it was given (now {given}): the caller still needs its "
            "pipeline (the lesson's LAB_PIPELINE is used again below). Work on a copy "
            "({task: list(waits) for task, waits in deps.items()}) or keep a set of placed tasks instead."
        )
        assert isinstance(got, list | tuple), (
            f"On {label} order_tasks returned {got!r}: return a list of task names."
        )
        got = list(got)
        if dag.is_valid_order(deps, got):
            continue
        assert sorted(got) == sorted(deps), (
            f"On {label} you returned {got}: every task must appear exactly once (expected the tasks "
            f"{sorted(deps)})."
        )
        assert got != list(deps), (
            f"On {label} you returned the tasks in the order the dict lists them ({got}): that order means "
            "nothing. Start with the tasks that wait for nothing, then repeatedly add a task whose "
            "dependencies are all placed."
        )
        assert not dag.is_valid_order(deps, got[::-1]), (
            f"On {label} you returned {got}, which is backwards: a task must come AFTER the tasks it waits "
            "for. Reverse the list, or put a task in the order only once its dependencies are in it."
        )
        by_count = sorted(deps, key=lambda t: len(deps[t]))
        assert got != by_count, (
            f"On {label} you sorted by the number of dependencies ({got}): a task with one dependency may "
            "wait for a task that has three. What counts is whether a task's dependencies are already "
            "placed, not how many it has."
        )
        late = next(t for t in got for d in deps[t] if got.index(d) > got.index(t))
        later = [d for d in deps[late] if got.index(d) > got.index(late)]
        raise AssertionError(
            f"On {label} you returned {got}: {late!r} comes before {later}, which it waits for."
        )
    for label, deps in CYCLE_CASES:
        try:
            got = order_tasks(_copy(deps))
        except ValueError:
            continue
        except RecursionError:
            raise AssertionError(
                f"On {label} your function recursed forever (RecursionError): a cycle never ends. Raise a "
                "ValueError when no task can be placed although some remain."
            ) from None
        except Exception as error:
            raise AssertionError(
                f"On {label} order_tasks raised {type(error).__name__} ({error}): raise a ValueError for a "
                "cycle (raise ValueError('...')), the error the caller catches for a graph it cannot run."
            ) from None
        raise AssertionError(
            f"On {label} order_tasks returned {got!r} instead of raising ValueError: a graph with a loop has "
            "no valid order, and an orchestrator must refuse it rather than run part of it."
        )
    return (
        f"order_tasks gives a valid order on all {len(ORDER_CASES)} graphs and refuses both graphs with a "
        "cycle (ValueError)."
    )


# --- exercise 2: find and fix the cycle -------------------------------------------------------------

FIND_CASES: tuple[tuple[str, dict[str, list[str]]], ...] = (
    ("the broken lab pipeline", dag.BROKEN_PIPELINE),
    ("a loop of three tasks among others",
     {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": []}),
    ("a task that waits for itself", {"x": ["x"], "y": ["x"]}),
    ("the lab's pipeline (no cycle)", dag.LAB_PIPELINE),
    ("a diamond (no cycle): two branches share a first task",
     {"publish": ["left", "right"], "left": ["start"], "right": ["start"], "start": []}),
)


def _edges(deps: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(task, d) for task, waits in deps.items() for d in waits}


@grader("l11_ex2_fix_cycle", max_score=1)
def grade_fix_cycle(find_cycle: Callable[[dict[str, list[str]]], list[str] | None],
                    fixed_pipeline: dict[str, list[str]]) -> str:
    """``find_cycle`` finds a loop (or None); ``fixed_pipeline`` drops exactly :data:`dag.WRONG_EDGE`."""
    assert callable(find_cycle), (
        f"find_cycle should be a function (def find_cycle(deps): ...), not {type(find_cycle).__name__}."
    )
    for label, deps in FIND_CASES:
        given = _copy(deps)
        try:
            got = find_cycle(given)
        except RecursionError:
            raise AssertionError(
                f"On {label} find_cycle recursed forever: mark a task as 'on the current path' when you "
                "enter it, and stop when you meet such a task again."
            ) from None
        assert given == deps, (
            f"On {label} find_cycle changed the dict it was given: searching a graph must leave it as it is "
            "(keep your marks in a dict or set of your own)."
        )
        expected = dag.find_cycle(deps)
        if expected is None:
            assert got is None, (
                f"On {label} you reported the cycle {got}, but there is none. "
                + ("A task reached twice by different paths (start, via left and via right) is not a loop: "
                   "only a task that is still on the CURRENT path closes one. "
                   "Keep 'visiting' and 'done' apart."
                   if "diamond" in label else "Check that each task in it really waits for the next.")
            )
            continue
        assert got is not None, f"On {label} find_cycle returned None, but {expected} form a loop."
        got = list(got)
        assert not (len(got) == len(expected) + 1 and got[0] == got[-1] and dag.is_cycle(deps, got[:-1])), (
            f"On {label} you returned {got}: list each task of the loop once, without repeating the first "
            "at the end."
        )
        assert dag.is_cycle(deps, got), (
            f"On {label} you returned {got}, which is not a loop of the graph: each task must wait for the "
            f"next one, and the last for the first (for example {expected})."
        )
    assert isinstance(fixed_pipeline, dict), (
        f"fixed_pipeline should be a dict like BROKEN_PIPELINE, not a {type(fixed_pipeline).__name__}."
    )
    missing = sorted(set(dag.BROKEN_PIPELINE) - set(fixed_pipeline))
    assert set(fixed_pipeline) == set(dag.BROKEN_PIPELINE), (
        f"fixed_pipeline should keep every task of the pipeline; missing {missing}, "
        f"extra {sorted(set(fixed_pipeline) - set(dag.BROKEN_PIPELINE))}."
    )
    fixed = {task: list(waits) for task, waits in fixed_pipeline.items()}
    loop = dag.find_cycle(fixed)
    assert loop is None, f"fixed_pipeline still has the loop {loop}: remove one dependency of it."
    removed = _edges(dag.BROKEN_PIPELINE) - _edges(fixed)
    added = _edges(fixed) - _edges(dag.BROKEN_PIPELINE)
    assert not added, (
        f"fixed_pipeline adds dependencies {sorted(added)}: only remove the one that closes the loop."
    )
    wrong = dag.WRONG_EDGE
    if removed == {wrong}:
        return (
            "find_cycle finds every loop (and none in a diamond), and fixed_pipeline removes exactly the "
            "dependency that pointed backwards: data flows extract -> build -> check -> load -> crawl."
        )
    if wrong not in removed:
        (task, dep), *_ = sorted(removed)
        raise AssertionError(
            f"You removed '{task}' waiting for '{dep}': the loop is gone, but now {task!r} may run before "
            f"{dep!r} produced its input. Data flows from the extracts to the checks; the dependency that "
            f"points backwards is {wrong[0]!r} waiting for {wrong[1]!r}. Remove that one and keep the rest."
        )
    raise AssertionError(
        f"You removed {sorted(removed)}; removing {wrong} alone is enough: keep every other dependency, "
        "or tasks may run before their inputs exist."
    )


# --- exercise 3: retries with exponential backoff, and an alert --------------------------------------

RETRY_CASES: tuple[tuple[str, int, int, float], ...] = (
    ("a source that times out twice, with 3 retries from 1 s", 2, 3, 1.0),
    ("a source that answers at once", 0, 2, 5.0),
    ("a source that recovers on the last retry (3 failures, 3 retries from 0.5 s)", 3, 3, 0.5),
    ("a source down for good, with 3 retries from 2 s", 9, 3, 2.0),
    ("a source down for good, with no retries allowed", 9, 0, 1.0),
)


class _RealSleepError(AssertionError):
    """Raised when the learner's function calls time.sleep during grading."""


def _no_real_sleep(seconds: float) -> None:
    raise _RealSleepError(
        f"run_with_retries called time.sleep({seconds!r}): wait with the `sleep` function it receives, so "
        "an orchestrator (or a test's fake clock) decides how waiting happens."
    )


@grader("l11_ex3_run_with_retries", max_score=1)
def grade_run_with_retries(run_with_retries: Callable[..., Any]) -> str:
    """Waits, attempts, result, alert and re-raise must match :func:`dag.run_with_retries` on a fake clock."""
    assert callable(run_with_retries), (
        "run_with_retries should be a function "
        "(def run_with_retries(task, action, retries, base_delay, sleep, alert): ...), "
        f"not {type(run_with_retries).__name__}."
    )
    real_sleep = time.sleep
    time.sleep = _no_real_sleep  # the grader must never wait, and a real sleep is a mistake to name
    try:
        for label, failures, retries, base in RETRY_CASES:
            _check_retry_case(run_with_retries, label, failures, retries, base)
    finally:
        time.sleep = real_sleep
    return (
        "run_with_retries waits 1x, 2x, 4x... the base delay between attempts (never after the last), "
        "stops as soon as the source answers, and when every attempt failed it alerts once and re-raises."
    )


def _check_retry_case(run_with_retries: Callable[..., Any], label: str, failures: int, retries: int,
                      base: float) -> None:
    task = "extract orders"
    clock = dag.FakeClock()
    source = dag.FlakyAction(failures=failures, result="2996 order lines", clock=clock)
    alerts: list[str] = []
    expected_waits = dag.backoff_delays(min(failures, retries), base)
    succeeds = failures <= retries
    try:
        result = run_with_retries(task, source, retries, base, clock.sleep, alerts.append)
        raised = None
    except _RealSleepError:
        raise
    except ConnectionError as error:
        result, raised = None, error
    except Exception as error:
        raise AssertionError(
            f"On {label} your function raised {type(error).__name__} ({error}), but the task failed with "
            "ConnectionError: raise the last error again (a bare `raise` in the except block), so the "
            "orchestrator sees what really went wrong."
        ) from None
    waits = clock.sleeps
    attempts = source.calls
    if succeeds:
        assert raised is None, (
            f"On {label} your function raised after {attempts} attempt(s), but the source answers on attempt "
            f"{failures + 1}, within 1 + {retries} retries: `retries` counts the tries AFTER the first, so "
            f"make {retries + 1} attempts in all."
        )
        assert result == "2996 order lines", (
            f"On {label} your function returned {result!r}: return what the task returned "
            "('2996 order lines')."
        )
        assert not alerts, (
            f"On {label} you alerted {alerts}, but the task succeeded: alert only when it gives up."
        )
    else:
        assert attempts <= retries + 1, (
            f"On {label} the source was called {attempts} times: with {retries} retries, try {retries + 1} "
            "times in all, then give up."
        )
        assert attempts == retries + 1, (
            f"On {label} you gave up after {attempts} attempt(s): with {retries} retries, make "
            f"{retries + 1} attempts in all."
        )
        assert len(alerts) <= 1, (
            f"On {label} you alerted {len(alerts)} times ({alerts}): alert once, when the task fails "
            "for good, not at every failed attempt (people stop reading noisy alerts)."
        )
        assert alerts, f"On {label} the task failed for good and nobody was told: call alert(message) once."
        assert task in alerts[0], (
            f"On {label} your alert says {alerts[0]!r}: name the task ({task!r}) so the person on call knows "
            "what failed."
        )
        assert raised is not None, (
            f"On {label} your function returned {result!r} after alerting: raise the last error again, so "
            "the orchestrator marks the task failed and skips what depends on it."
        )
    if waits == expected_waits:
        return
    if len(waits) == len(expected_waits) + 1 and waits[:-1] == expected_waits:
        raise AssertionError(
            f"On {label} you waited {waits}: the last wait ({waits[-1]} s) came after the last attempt, when "
            f"nothing is retried any more. Expected {expected_waits}."
        )
    if len(waits) > 1 and len(set(waits)) == 1:
        raise AssertionError(
            f"On {label} you waited {waits}: the same delay every time. Exponential backoff doubles it "
            f"before each retry: {expected_waits}."
        )
    if len(waits) > 2 and waits[1] - waits[0] == waits[2] - waits[1]:
        raise AssertionError(
            f"On {label} you waited {waits}: that grows by a fixed step (linear). Exponential backoff "
            f"doubles the delay each time: {expected_waits} (base_delay * 2 ** attempt)."
        )
    raise AssertionError(f"On {label} you waited {waits} (seconds), expected {expected_waits}.")


# --- exercise 4: volume anomalies --------------------------------------------------------------------


def _volume_cases() -> list[tuple[str, list[int], int, float]]:
    """No case tells the sample standard deviation (ddof=1) from the population one on purpose: both are
    sound monitors, and flagging a learner's stdev as wrong over a 4% threshold would teach nothing."""
    history, _ = observability.load_history(seed=11)
    other, _ = observability.load_history(seed=4, days=45, base_rows=800)
    return [
        ("the lesson's 60 nights (window 14, z 3)", [load.rows for load in history], 14, 3.0),
        ("45 other nights (window 7, z 3)", [load.rows for load in other], 7, 3.0),
        ("a table whose loads never varied, then did (window 5, z 3)",
         [500] * 10 + [501, 500, 500, 500, 500, 500, 500, 120], 5, 3.0),
        ("a short history with a spike and a drop (window 4, z 2)",
         [100, 104, 98, 101, 99, 300, 102, 100, 97, 101, 103, 20], 4, 2.0),
    ]


@grader("l11_ex4_volume_anomalies", max_score=1)
def grade_volume_anomalies(volume_anomalies: Callable[[list[int], int, float], list[int]]) -> str:
    """``volume_anomalies(counts, window, z)`` must flag what :func:`observability.volume_anomalies` flags."""
    assert callable(volume_anomalies), (
        "volume_anomalies should be a function (def volume_anomalies(counts, window, z): ...), "
        f"not {type(volume_anomalies).__name__}."
    )
    for label, counts, window, z in _volume_cases():
        expected = observability.volume_anomalies(counts, window, z)
        try:
            got = volume_anomalies(list(counts), window, z)
        except ZeroDivisionError:
            raise AssertionError(
                f"On {label} your function divided by zero: when the baseline never varied its standard "
                "deviation is 0. Then any count different from the mean is an anomaly "
                "(and an equal one is not)."
            ) from None
        assert isinstance(got, list | tuple | np.ndarray), (
            f"On {label} volume_anomalies returned {got!r}: return the list of indices that are anomalies."
        )
        got = sorted(int(i) for i in got)
        if got == expected:
            continue
        assert all(i >= window for i in got), (
            f"On {label} you flagged {[i for i in got if i < window]}, before a full window of {window} past "
            "counts exists: start judging at index `window`."
        )
        for variant, message in _VOLUME_MISTAKES.items():
            if got == _volume_variant(counts, window, z, variant) != expected:
                raise AssertionError(f"On {label} you flagged {got}, expected {expected}: {message}.")
        one_sided = [i for i in expected if counts[i] < sum(counts[i - window:i]) / window]
        assert got != one_sided or not one_sided, (
            f"On {label} you flagged only the drops ({got}); a spike is an incident too (a load that ran "
            f"twice doubles the rows). Use the absolute deviation: expected {expected}."
        )
        with_today = _with_today(counts, window, z)
        assert got != with_today, (
            f"On {label} you flagged {got}, expected {expected}: your baseline includes the day being "
            "judged, so an outlier inflates its own mean and deviation and hides. Use counts[i - window:i]."
        )
        raise AssertionError(f"On {label} (window {window}, z {z}) you flagged {got}, expected {expected}.")
    return (
        "volume_anomalies flags the same nights as the reference monitor: spikes and drops against the past "
        "window only, and a flat history handled without dividing by zero."
    )


_VOLUME_MISTAKES = {
    "flat ignored": (
        "when the baseline never varied (standard deviation 0) you flagged nothing; then any count "
        "different from the mean is abnormal"
    ),
    "all history": (
        "your baseline is the whole history before i; it is the `window` counts just before it, "
        "counts[i - window:i], so the monitor follows the table as it grows"
    ),
}


def _volume_variant(counts: list[int], window: int, z: float, mistake: str) -> list[int]:
    """What a learner flags with one known ``mistake``."""
    import statistics

    flagged = []
    for i in range(window, len(counts)):
        baseline = counts[:i] if mistake == "all history" else counts[i - window:i]
        mean = statistics.fmean(baseline)
        std = statistics.pstdev(baseline)
        if std == 0 and mistake == "flat ignored":
            continue
        if (std == 0 and counts[i] != mean) or (std > 0 and abs(counts[i] - mean) > z * std):
            flagged.append(i)
    return flagged


def _with_today(counts: list[int], window: int, z: float) -> list[int]:
    import statistics

    flagged = []
    for i in range(window, len(counts)):
        baseline = counts[i - window + 1:i + 1]
        mean, std = statistics.fmean(baseline), statistics.pstdev(baseline)
        if (std == 0 and counts[i] != mean) or (std > 0 and abs(counts[i] - mean) > z * std):
            flagged.append(i)
    return flagged


declare("11_dataops_orchestration_and_aws_services", grade_order_tasks, grade_fix_cycle,
        grade_run_with_retries, grade_volume_anomalies)
