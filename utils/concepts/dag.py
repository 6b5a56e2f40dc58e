"""Orchestration in miniature: tasks with dependencies, run as a DAG with retries.

:func:`run_dag` runs tasks in a topological order (``graphlib``), retries a
failing task up to its ``retries``, and skips everything downstream of a task
that finally fails, which is what Airflow, Dagster or Prefect do at scale.
Everything is deterministic: no clocks, no threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any


@dataclass
class Task:
    """A named unit of work, the tasks it waits for, and how often to retry it."""

    name: str
    action: Callable[[], Any]
    depends_on: tuple[str, ...] = ()
    retries: int = 0


@dataclass(frozen=True)
class Attempt:
    """One attempt of one task."""

    task: str
    attempt: int
    status: str  # "success", "failed", "skipped"
    detail: str
    at: float | None = None  # the fake clock's time when the attempt started (None without a clock)


@dataclass
class DagRun:
    """The log of a run and the final state of each task."""

    attempts: list[Attempt] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """True when every task ended in success."""
        return all(s == "success" for s in self.states.values())


class FakeClock:
    """A clock that only moves when something sleeps on it: retries with waits, and no real waiting.

    ``sleep(seconds)`` records the wait and moves ``now`` forward; tests and lessons read
    ``sleeps`` to see the backoff a retry policy used.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on the fake clock (instantly)."""
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time ({seconds})")
        self.sleeps.append(seconds)
        self.now += seconds


class FlakyAction:
    """A callable that raises for its first ``failures`` calls, then succeeds (a flaky source).

    With a ``clock``, ``calls_at`` records the clock's time at every call.
    """

    def __init__(self, failures: int, message: str = "source database timed out", result: Any = "ok",
                 clock: FakeClock | None = None) -> None:
        self.failures, self.message, self.result, self.calls = failures, message, result, 0
        self.clock = clock
        self.calls_at: list[float] = []

    def __call__(self) -> Any:
        self.calls += 1
        if self.clock is not None:
            self.calls_at.append(self.clock.now)
        if self.calls <= self.failures:
            raise ConnectionError(self.message)
        return self.result


def backoff_delays(retries: int, base_delay: float) -> list[float]:
    """The waits before each retry with exponential backoff: base, 2 x base, 4 x base..."""
    return [base_delay * 2**attempt for attempt in range(retries)]


def run_with_retries(task: str, action: Callable[[], Any], retries: int, base_delay: float,
                     sleep: Callable[[float], None], alert: Callable[[str], None]) -> Any:
    """Call ``action``; on an error wait (``sleep``) with exponential backoff and try again.

    At most ``retries`` retries (so ``retries + 1`` attempts), waiting ``base_delay``, then
    twice as long before each next retry, and never after the last attempt. When every
    attempt failed, ``alert`` is called once with a message naming the task and the last
    error, and that error is raised again so the orchestrator marks the task failed.
    """
    for attempt, delay in enumerate([*backoff_delays(retries, base_delay), None]):
        try:
            return action()
        except Exception as error:  # any task error is retried, then reported
            if delay is None:
                alert(f"task {task!r} failed after {attempt + 1} attempt(s): {type(error).__name__}: {error}")
                raise
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


LAB_PIPELINE: dict[str, list[str]] = {
    "extract customers": [],
    "extract orders": [],
    "extract products": [],
    "build star": ["extract customers", "extract orders", "extract products"],
    "quality checks": ["build star"],
    "load parquet": ["quality checks"],
    "crawl catalog": ["load parquet"],
}
"""The lab's pipeline: each task -> the tasks it waits for."""

WRONG_EDGE = ("extract orders", "quality checks")
"""The dependency a colleague added "so we never extract on top of bad data": it closes a loop."""

BROKEN_PIPELINE: dict[str, list[str]] = {**LAB_PIPELINE, WRONG_EDGE[0]: [WRONG_EDGE[1]]}
"""The lab's pipeline with :data:`WRONG_EDGE` added, which closes the loop
extract orders -> quality checks -> build star -> extract orders."""


def dependencies(tasks: list[Task]) -> dict[str, list[str]]:
    """The tasks as a plain dict: each task's name -> the names of the tasks it waits for."""
    return {task.name: list(task.depends_on) for task in tasks}


def topological_order(deps: dict[str, list[str]]) -> list[str]:
    """A valid run order of a ``{task: [tasks it waits for]}`` dict; ValueError on a cycle."""
    return execution_order([Task(name, print, tuple(waits)) for name, waits in deps.items()])


def is_valid_order(deps: dict[str, list[str]], order: list[str]) -> bool:
    """True when ``order`` lists every task once, each after all the tasks it waits for."""
    if sorted(order) != sorted(deps):
        return False
    position = {name: i for i, name in enumerate(order)}
    return all(position[d] < position[t] for t, waits in deps.items() for d in waits)


def find_cycle(deps: dict[str, list[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., z]`` where a waits for b, ..., and z waits for a; None in a DAG."""
    state: dict[str, str] = {}  # "visiting" while on the current path, "done" once finished

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "visiting"
        path.append(node)
        for nxt in deps.get(node, []):
            if state.get(nxt) == "visiting":
                return path[path.index(nxt):]
            if nxt not in state and (cycle := visit(nxt, path)) is not None:
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for start in deps:
        if start not in state and (cycle := visit(start, [])) is not None:
            return cycle
    return None


def is_cycle(deps: dict[str, list[str]], cycle: list[str]) -> bool:
    """True when ``cycle`` is a loop of ``deps``, read in either direction."""
    if not cycle or len(set(cycle)) != len(cycle) or any(t not in deps for t in cycle):
        return False
    pairs = list(zip(cycle, [*cycle[1:], cycle[0]], strict=True))
    forward = all(b in deps[a] for a, b in pairs)
    backward = all(a in deps[b] for a, b in pairs)
    return forward or backward


def review_change(deps: dict[str, list[str]]) -> list[str]:
    """The automated checks a CI job runs on a proposed pipeline before it ships; [] means "ship it".

    Every dependency must name a task of the pipeline, and the graph must have no cycle.
    """
    problems = [f"{task!r} waits for unknown task {d!r}" for task, waits in deps.items()
                for d in waits if d not in deps]
    known = {task: [d for d in waits if d in deps] for task, waits in deps.items()}
    cycle = find_cycle(known)
    if cycle is not None:
        problems.append("cycle: " + " -> ".join([*cycle, cycle[0]]) + " (no task of it could ever start)")
    return problems


def execution_order(tasks: list[Task]) -> list[str]:
    """A valid order to run ``tasks``; explains unknown dependencies and cycles."""
    names = {t.name for t in tasks}
    graph: dict[str, tuple[str, ...]] = {}
    for task in tasks:
        missing = [d for d in task.depends_on if d not in names]
        if missing:
            raise ValueError(f"Task {task.name!r} depends on unknown task(s) {missing}; check the spelling.")
        graph[task.name] = task.depends_on
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        cycle = " -> ".join(error.args[1])
        raise ValueError(
            f"The tasks form a cycle ({cycle}); a DAG must be acyclic, so remove one dependency."
        ) from None


def run_dag(tasks: list[Task], *, base_delay: float = 0.0, clock: FakeClock | None = None,
            alert: Callable[[str], None] | None = None) -> DagRun:
    """Run every task once its dependencies succeeded, with retries; return the log.

    With ``base_delay`` and a ``clock``, a failed attempt waits ``base_delay``, then twice as
    long, before each retry (exponential backoff on the fake clock). ``alert`` is called once
    per task that fails for good, with a message naming it.
    """
    by_name = {t.name: t for t in tasks}
    run = DagRun()
    delays = {t.name: backoff_delays(t.retries, base_delay) for t in tasks}
    for name in execution_order(tasks):
        task = by_name[name]
        failed_upstream = [d for d in task.depends_on if run.states.get(d) != "success"]
        if failed_upstream:
            run.states[name] = "skipped"
            run.attempts.append(
                Attempt(name, 0, "skipped", f"upstream {', '.join(failed_upstream)} did not succeed")
            )
            continue
        for attempt in range(1, task.retries + 2):
            at = clock.now if clock is not None else None
            try:
                result = task.action()
            except Exception as error:  # any task error is recorded, then retried
                run.attempts.append(Attempt(name, attempt, "failed", f"{type(error).__name__}: {error}", at))
                run.states[name] = "failed"
                if attempt <= task.retries and clock is not None and base_delay > 0:
                    clock.sleep(delays[name][attempt - 1])
                elif attempt > task.retries and alert is not None:
                    alert(f"task {name!r} failed after {attempt} attempt(s): {type(error).__name__}: {error}")
            else:
                run.attempts.append(Attempt(name, attempt, "success", str(result), at))
                run.states[name] = "success"
                break
    return run


def levels(tasks: list[Task]) -> dict[str, int]:
    """Depth of each task (0 = no dependencies), for drawing the DAG in columns."""
    depth: dict[str, int] = {}
    by_name = {t.name: t for t in tasks}
    for name in execution_order(tasks):
        deps = by_name[name].depends_on
        depth[name] = 1 + max((depth[d] for d in deps), default=-1)
    return depth


def plot_dag(tasks: list[Task], states: dict[str, str] | None = None, ax: Any = None) -> Any:
    """Draw tasks in columns by depth, arrows for dependencies, coloured by state."""
    import matplotlib.pyplot as plt

    depth = levels(tasks)
    rows: dict[int, list[str]] = {}
    for name in sorted(depth, key=lambda n: (depth[n], n)):
        rows.setdefault(depth[name], []).append(name)
    if ax is None:
        tallest = max(len(names) for names in rows.values())
        _, ax = plt.subplots(figsize=(1.7 * len(rows) + 0.5, 1.0 * tallest + 0.8))
    pos = {name: (d * 2.2, -i) for d, names in rows.items() for i, name in enumerate(names)}
    colours = {"success": "#b7e4c7", "failed": "#f4a6a6", "skipped": "#dddddd"}
    for task in tasks:
        for dep in task.depends_on:
            (x0, y0), (x1, y1) = pos[dep], pos[task.name]
            ax.annotate(
                "", xy=(x1 - 0.75, y1), xytext=(x0 + 0.75, y0), arrowprops={"arrowstyle": "->", "lw": 1.2}
            )
    for name, (x, y) in pos.items():
        colour = colours.get((states or {}).get(name, ""), "#cfe2ff")
        ax.text(
            x,
            y,
            name.replace(" ", "\n", 1),
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "fc": colour, "ec": "0.3"},
        )
    ax.set_xlim(-1.2, max(x for x, _ in pos.values()) + 1.2)
    ax.set_ylim(min(y for _, y in pos.values()) - 0.7, 0.7)
    ax.axis("off")
    return ax
