"""Lesson 02's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts.lifecycle import LAB_EVENTS
from utils.teaching.exercises.lesson02 import grade_affected_by, grade_lab_concerns

# --- exercise 1: affected_by ---------------------------------------------------------------


def affected_by(table, lineage):
    affected = set()
    to_check = [table]
    while to_check:
        changed = to_check.pop()
        for built, inputs in lineage.items():
            if changed in inputs and built not in affected:
                affected.add(built)
                to_check.append(built)
    return affected


def affected_by_recursively(table, lineage):
    readers = sorted(built for built, inputs in lineage.items() if table in inputs)
    found = list(readers)
    for reader in readers:
        found += affected_by_recursively(reader, lineage)
    return sorted(set(found))  # a sorted list, duplicates removed


def affected_by_directly(table, lineage):
    return {built for built, inputs in lineage.items() if table in inputs}


def affected_by_including_itself(table, lineage):
    return affected_by(table, lineage) | {table}


def affected_upstream(table, lineage):
    found, to_check = set(), [table]
    while to_check:
        for parent in lineage.get(to_check.pop(), set()):
            if parent not in found:
                found.add(parent)
                to_check.append(parent)
    return found


def test_affected_by():
    assert_grader_proven(
        grade_affected_by,
        solution=affected_by,
        mistakes=[
            (affected_by_directly, "only the tables that read c directly"),
            (affected_by_including_itself, "includes c itself"),
            (affected_upstream, "i.e. upstream"),
            (lambda table, lineage: sorted(affected_by(table, lineage))[0:1], "expected {d, report}"),
            ({"customers": {"dashboard"}}, "should be a function"),
        ],
        equivalents=[affected_by_recursively],
    )


# --- exercise 2: lab_concerns --------------------------------------------------------------

SOLUTION = {1: "security", 2: "generation", 3: "transformation", 4: "orchestration", 5: "serving",
            6: "data management", 7: "ingestion", 8: "DataOps", 9: "storage", 10: "software engineering",
            11: "data architecture"}


def test_the_solution_is_the_lessons_table():
    assert [SOLUTION[k] for k in sorted(SOLUTION)] == [event.concern for event in LAB_EVENTS]


def test_lab_concerns():
    written_differently = {k: v.upper() if k % 2 else v.replace(" ", "_") for k, v in SOLUTION.items()}
    written_differently[11] = "architecture"
    assert_grader_proven(
        grade_lab_concerns,
        solution=SOLUTION,
        mistakes=[
            # the read-only user labelled with the stage it happens in
            ({**SOLUTION, 1: "ingestion", 7: "security"},
             "event 1 happens during ingestion, but what it is about is security"),
            # the catalog taken for storage, the files for data management
            ({**SOLUTION, 6: "storage", 9: "data management"}, "event 6 happens during storage"),
            # the run logs taken for orchestration, the crawler's start for DataOps
            ({**SOLUTION, 4: "DataOps", 8: "orchestration"}, "event 4 is orchestration, not DataOps"),
            ({k: v for k, v in SOLUTION.items() if k != 11}, "no label for event(s) [11]"),
            ({**SOLUTION, 5: "analytics"}, "neither a stage nor an undercurrent"),
        ],
        equivalents=[written_differently, [SOLUTION[k] for k in range(1, 12)]],
    )


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def affected_by_through_a_reverse_index(table, lineage):
    readers = {}
    for built, inputs in lineage.items():
        for name in inputs:
            readers.setdefault(name, []).append(built)
    seen, stack = set(), list(readers.get(table, []))
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(readers.get(name, []))
    return frozenset(seen)


def affected_by_as_a_list_with_repeats(table, lineage):
    found = []
    for built, inputs in lineage.items():
        if table in inputs:
            found += [built, *affected_by_as_a_list_with_repeats(built, lineage)]
    return found


def affected_two_levels_down(table, lineage):
    direct = {built for built, inputs in lineage.items() if table in inputs}
    return direct | {built for name in direct for built, inputs in lineage.items() if name in inputs}


def affected_by_printing(table, lineage):
    print(affected_by(table, lineage))


def affected_by_as_text(table, lineage):
    return ", ".join(sorted(affected_by(table, lineage)))


def test_affected_by_review():
    assert_grader_proven(
        grade_affected_by,
        solution=affected_by,
        mistakes=[
            (affected_two_levels_down, "expected {dashboard, dim_customers"),
            (affected_by_printing, "affected_by returned None: return a set"),
            (affected_by_as_text, "return a set of table names"),
        ],
        equivalents=[affected_by_through_a_reverse_index, affected_by_as_a_list_with_repeats],
    )


def test_lab_concerns_review():
    assert_grader_proven(
        grade_lab_concerns,
        solution=SOLUTION,
        mistakes=[
            ({k - 1: v for k, v in SOLUTION.items()}, "number the events as printed above, from 1"),
            ({**SOLUTION, 8: "DevOps"}, "neither a stage nor an undercurrent"),
            ({**SOLUTION, 3: "storage", 9: "transformation"}, "event 3 is transformation, not storage"),
        ],
        equivalents=[{str(k): v for k, v in SOLUTION.items()},
                     {k: f" {v.title()} " for k, v in SOLUTION.items()}],
    )
