"""Lesson 11's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

import statistics
import time

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts.dag import BROKEN_PIPELINE
from utils.teaching.exercises.lesson11 import (
    grade_fix_cycle,
    grade_order_tasks,
    grade_run_with_retries,
    grade_volume_anomalies,
)

# --- exercise 1: order_tasks ----------------------------------------------------------------------


def order_tasks(deps):
    order, placed = [], set()
    while len(order) < len(deps):
        ready = [t for t in deps if t not in placed and all(d in placed for d in deps[t])]
        if not ready:
            raise ValueError("the tasks form a cycle")
        order += ready
        placed |= set(ready)
    return order


def order_tasks_by_depth_first_search(deps):
    order, state = [], {}

    def visit(task):
        if state.get(task) == "done":
            return
        if state.get(task) == "visiting":
            raise ValueError(f"cycle through {task}")
        state[task] = "visiting"
        for dep in deps[task]:
            visit(dep)
        state[task] = "done"
        order.append(task)

    for task in sorted(deps):
        visit(task)
    return order


def order_tasks_in_dict_order(deps):
    return list(deps)


def order_tasks_by_dependency_count(deps):
    return sorted(deps, key=lambda task: len(deps[task]))


def order_tasks_backwards(deps):
    return order_tasks(deps)[::-1]


def order_tasks_silently_partial(deps):
    order, placed = [], set()
    while True:
        ready = [t for t in deps if t not in placed and all(d in placed for d in deps[t])]
        if not ready:
            return order
        order += ready
        placed |= set(ready)


def order_tasks_recursing_forever(deps):
    order = []

    def visit(task):
        for dep in deps[task]:
            visit(dep)
        if task not in order:
            order.append(task)

    for task in deps:
        visit(task)
    return order


def test_order_tasks():
    assert_grader_proven(
        grade_order_tasks,
        solution=order_tasks,
        mistakes=[
            (order_tasks_in_dict_order, "in the order the dict lists them"),
            (order_tasks_by_dependency_count, "sorted by the number of dependencies"),
            (order_tasks_backwards, "backwards"),
            (order_tasks_silently_partial, "instead of raising ValueError"),
            (order_tasks_recursing_forever, "recursed forever"),
        ],
        equivalents=[order_tasks_by_depth_first_search],
    )


# --- exercise 2: find_cycle, fixed_pipeline -------------------------------------------------------


def find_cycle(deps):
    state = {}

    def visit(task, path):
        state[task] = "visiting"
        path.append(task)
        for dep in deps[task]:
            if state.get(dep) == "visiting":
                return path[path.index(dep):]
            if dep not in state:
                cycle = visit(dep, path)
                if cycle:
                    return cycle
        path.pop()
        state[task] = "done"
        return None

    for task in deps:
        if task not in state:
            cycle = visit(task, [])
            if cycle:
                return cycle
    return None


def find_cycle_reversed(deps):
    cycle = find_cycle(deps)
    return None if cycle is None else cycle[::-1]


def find_cycle_with_one_seen_set(deps):
    seen = set()

    def visit(task, path):
        if task in seen:
            return path[path.index(task):] if task in path else [task]
        seen.add(task)
        for dep in deps[task]:
            cycle = visit(dep, [*path, task])
            if cycle:
                return cycle
        return None

    for task in deps:
        if task not in seen:
            cycle = visit(task, [])
            if cycle:
                return cycle
    return None


def find_cycle_closing_the_loop(deps):
    cycle = find_cycle(deps)
    return None if cycle is None else [*cycle, cycle[0]]


FIXED = {**BROKEN_PIPELINE, "extract orders": []}


def test_fix_cycle():
    reversed_flow = {**BROKEN_PIPELINE, "build star": ["extract customers", "extract products"]}
    too_much = {**FIXED, "crawl catalog": []}
    assert_grader_proven(
        grade_fix_cycle,
        solution=(find_cycle, FIXED),
        mistakes=[
            ((find_cycle_with_one_seen_set, FIXED), "not a loop"),
            ((find_cycle_closing_the_loop, FIXED), "without repeating the first"),
            ((find_cycle, BROKEN_PIPELINE), "still has the loop"),
            ((find_cycle, reversed_flow), "points backwards"),
            ((find_cycle, too_much), "removing ('extract orders', 'quality checks') alone is enough"),
            ((find_cycle, {k: v for k, v in FIXED.items() if k != "crawl catalog"}), "keep every task"),
        ],
        equivalents=[(find_cycle_reversed, {**FIXED, "extract orders": ()})],
    )


# --- exercise 3: run_with_retries -----------------------------------------------------------------


def run_with_retries(task, action, retries, base_delay, sleep, alert):
    for attempt in range(retries + 1):
        try:
            return action()
        except Exception as error:
            if attempt == retries:
                alert(f"{task} failed after {retries + 1} attempts: {error}")
                raise
            sleep(base_delay * 2 ** attempt)
    return None


def run_with_retries_written_with_a_while(task, action, retries, base_delay, sleep, alert):
    attempt, delay = 0, base_delay
    while True:
        attempt += 1
        try:
            return action()
        except ConnectionError as error:
            if attempt > retries:
                alert(f"giving up on {task}: {error}")
                raise error
            sleep(delay)
            delay *= 2


def with_constant_delay(task, action, retries, base_delay, sleep, alert):
    for attempt in range(retries + 1):
        try:
            return action()
        except Exception:
            if attempt == retries:
                alert(f"{task} failed")
                raise
            sleep(base_delay)
    return None


def with_linear_delay(task, action, retries, base_delay, sleep, alert):
    for attempt in range(retries + 1):
        try:
            return action()
        except Exception:
            if attempt == retries:
                alert(f"{task} failed")
                raise
            sleep(base_delay * (attempt + 1))
    return None


def sleeping_after_the_last_attempt(task, action, retries, base_delay, sleep, alert):
    for attempt in range(retries + 1):
        try:
            return action()
        except Exception:
            sleep(base_delay * 2 ** attempt)
            if attempt == retries:
                alert(f"{task} failed")
                raise
    return None


def retries_as_total_attempts(task, action, retries, base_delay, sleep, alert):
    for attempt in range(max(retries, 1)):
        try:
            return action()
        except Exception:
            if attempt == max(retries, 1) - 1:
                alert(f"{task} failed")
                raise
            sleep(base_delay * 2 ** attempt)
    return None


def alerting_every_failure(task, action, retries, base_delay, sleep, alert):
    for attempt in range(retries + 1):
        try:
            return action()
        except Exception:
            alert(f"{task} failed")
            if attempt == retries:
                raise
            sleep(base_delay * 2 ** attempt)
    return None


def swallowing_the_error(task, action, retries, base_delay, sleep, alert):
    try:
        return run_with_retries(task, action, retries, base_delay, sleep, alert)
    except ConnectionError:
        return None


def alert_without_the_task(task, action, retries, base_delay, sleep, alert):
    return run_with_retries("", action, retries, base_delay, sleep, lambda message: alert("it failed"))


def with_real_sleep(task, action, retries, base_delay, sleep, alert):
    return run_with_retries(task, action, retries, base_delay, time.sleep, alert)


def test_run_with_retries():
    assert_grader_proven(
        grade_run_with_retries,
        solution=run_with_retries,
        mistakes=[
            (with_constant_delay, "the same delay every time"),
            (with_linear_delay, "linear"),
            (sleeping_after_the_last_attempt, "came after the last attempt"),
            (retries_as_total_attempts, "counts the tries AFTER the first"),
            (alerting_every_failure, "alert only when it gives up"),
            (swallowing_the_error, "raise the last error again"),
            (alert_without_the_task, "name the task"),
            (with_real_sleep, "called time.sleep"),
        ],
        equivalents=[run_with_retries_written_with_a_while],
    )
    assert time.sleep.__name__ == "sleep"  # the grader put the real one back


# --- exercise 4: volume_anomalies -----------------------------------------------------------------


def volume_anomalies(counts, window, z):
    flagged = []
    for i in range(window, len(counts)):
        past = counts[i - window:i]
        mean, std = statistics.fmean(past), statistics.pstdev(past)
        if (std == 0 and counts[i] != mean) or (std > 0 and abs(counts[i] - mean) > z * std):
            flagged.append(i)
    return flagged


def volume_anomalies_with_numpy_and_sample_std(counts, window, z):
    import numpy as np

    values = np.asarray(counts, dtype=float)
    found = []
    for i in range(window, len(values)):
        past = values[i - window:i]
        std = past.std(ddof=1)
        if (std == 0 and values[i] != past.mean()) or (std > 0 and abs(values[i] - past.mean()) / std > z):
            found.append(i)
    return found


def volume_only_drops(counts, window, z):
    flagged = volume_anomalies(counts, window, z)
    return [i for i in flagged if counts[i] < statistics.fmean(counts[i - window:i])]


def volume_including_today(counts, window, z):
    flagged = []
    for i in range(window, len(counts)):
        past = counts[i - window + 1:i + 1]
        mean, std = statistics.fmean(past), statistics.pstdev(past)
        if std and abs(counts[i] - mean) / std > z:
            flagged.append(i)
    return flagged


def volume_dividing_by_zero(counts, window, z):
    flagged = []
    for i in range(window, len(counts)):
        past = counts[i - window:i]
        if abs(counts[i] - statistics.fmean(past)) / statistics.pstdev(past) > z:
            flagged.append(i)
    return flagged


def volume_from_the_start(counts, window, z):
    flagged = []
    for i in range(2, len(counts)):
        past = counts[max(0, i - window):i]
        mean, std = statistics.fmean(past), statistics.pstdev(past)
        if (std == 0 and counts[i] != mean) or (std > 0 and abs(counts[i] - mean) > z * std):
            flagged.append(i)
    return flagged


def test_volume_anomalies():
    assert_grader_proven(
        grade_volume_anomalies,
        solution=volume_anomalies,
        mistakes=[
            (volume_only_drops, "only the drops"),
            (volume_including_today, "includes the day being judged"),
            (volume_dividing_by_zero, "divided by zero"),
            (volume_from_the_start, "start judging at index `window`"),
        ],
        equivalents=[volume_anomalies_with_numpy_and_sample_std],
    )


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def order_tasks_with_graphlib(deps):
    import graphlib

    return list(graphlib.TopologicalSorter(deps).static_order())  # CycleError is a ValueError


def order_tasks_removing_placed_dependencies(deps):  # Kahn's algorithm on the caller's own dict
    order = []
    while deps:
        ready = [task for task, waits in deps.items() if not waits]
        if not ready:
            raise ValueError("cycle")
        for task in ready:
            order.append(task)
            del deps[task]
        for waits in deps.values():
            waits[:] = [d for d in waits if d not in ready]
    return order


def order_tasks_raising_runtime_error(deps):
    try:
        return order_tasks(deps)
    except ValueError:
        raise RuntimeError("the pipeline has a cycle") from None


def test_order_tasks_review():
    assert_grader_proven(
        grade_order_tasks,
        solution=order_tasks,
        mistakes=[
            (order_tasks_removing_placed_dependencies, "changed the dict it was given"),
            (order_tasks_raising_runtime_error, "raise a ValueError for a cycle"),
        ],
        equivalents=[order_tasks_with_graphlib],
    )


def find_cycle_emptying_the_graph(deps):
    cycle = find_cycle(deps)
    for waits in deps.values():
        waits.clear()
    return cycle


def test_fix_cycle_review():
    assert_grader_proven(
        grade_fix_cycle,
        solution=(find_cycle, FIXED),
        mistakes=[
            ((find_cycle_emptying_the_graph, FIXED), "changed the dict it was given"),
            ((find_cycle, {**BROKEN_PIPELINE, "quality checks": []}), "points backwards"),
        ],
        equivalents=[(find_cycle_reversed, {task: tuple(waits) for task, waits in FIXED.items()})],
    )


def run_with_retries_wrapping_the_error(task, action, retries, base_delay, sleep, alert):
    try:
        return run_with_retries(task, action, retries, base_delay, sleep, alert)
    except ConnectionError as error:
        raise RuntimeError(f"{task} failed") from error


def run_with_retries_recursively(task, action, retries, base_delay, sleep, alert, _attempt=0):
    try:
        return action()
    except ConnectionError as error:
        if _attempt == retries:
            alert(f"{task}: gave up after {retries + 1} attempts ({error!r})")
            raise
        sleep(base_delay * 2 ** _attempt)
        return run_with_retries_recursively(task, action, retries, base_delay, sleep, alert, _attempt + 1)


def test_run_with_retries_review():
    assert_grader_proven(
        grade_run_with_retries,
        solution=run_with_retries,
        mistakes=[
            (run_with_retries_wrapping_the_error, "raise the last error again"),
            (swallowing_the_error, "raise the last error again"),
        ],
        equivalents=[run_with_retries_recursively],
    )


def volume_ignoring_flat_baselines(counts, window, z):
    flagged = []
    for i in range(window, len(counts)):
        past = counts[i - window:i]
        mean, std = statistics.fmean(past), statistics.pstdev(past)
        if std > 0 and abs(counts[i] - mean) > z * std:
            flagged.append(i)
    return flagged


def volume_against_all_history(counts, window, z):
    flagged = []
    for i in range(window, len(counts)):
        past = counts[:i]
        mean, std = statistics.fmean(past), statistics.pstdev(past)
        if (std == 0 and counts[i] != mean) or (std > 0 and abs(counts[i] - mean) > z * std):
            flagged.append(i)
    return flagged


def volume_as_a_numpy_array(counts, window, z):
    import numpy as np

    values = np.asarray(counts, dtype=float)
    flags = [i for i in range(window, len(values))
             if (values[i - window:i].std() == 0 and values[i] != values[i - window:i].mean())
             or abs(values[i] - values[i - window:i].mean()) > z * values[i - window:i].std() > 0]
    return np.array(flags, dtype=np.int64)


def test_volume_anomalies_review():
    assert_grader_proven(
        grade_volume_anomalies,
        solution=volume_anomalies,
        mistakes=[
            (volume_ignoring_flat_baselines, "you flagged nothing"),
            (volume_against_all_history, "your baseline is the whole history before i"),
        ],
        equivalents=[volume_as_a_numpy_array],
    )
