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


@dataclass
class DagRun:
    """The log of a run and the final state of each task."""

    attempts: list[Attempt] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """True when every task ended in success."""
        return all(s == "success" for s in self.states.values())


class FlakyAction:
    """A callable that raises for its first ``failures`` calls, then succeeds (a flaky source)."""

    def __init__(self, failures: int, message: str = "source database timed out", result: Any = "ok") -> None:
        self.failures, self.message, self.result, self.calls = failures, message, result, 0

    def __call__(self) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(self.message)
        return self.result


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


def run_dag(tasks: list[Task]) -> DagRun:
    """Run every task once its dependencies succeeded, with retries; return the log."""
    by_name = {t.name: t for t in tasks}
    run = DagRun()
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
            try:
                result = task.action()
            except Exception as error:  # any task error is recorded, then retried
                run.attempts.append(Attempt(name, attempt, "failed", f"{type(error).__name__}: {error}"))
                run.states[name] = "failed"
            else:
                run.attempts.append(Attempt(name, attempt, "success", str(result)))
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
