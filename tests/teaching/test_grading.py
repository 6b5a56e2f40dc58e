"""GradeResult, the grader decorator, the display bundle and collect().

PYTEST_DONT_REWRITE: the graders below use plain asserts, as in a notebook.
"""

from __future__ import annotations

import sqlite3

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from utils.teaching.grading import MIME_TYPE, GradeResult, collect, grader, not_done, report


@grader("ex1_sum", max_score=2)
def grade_sum(total):
    assert total == 3, f"total is {total}, expected 3."
    return "Right."


@grader("ex2_sql")
def grade_sql(sql):
    return str(sqlite3.connect(":memory:").execute(sql).fetchone()[0])


@grader("ex3_partial", max_score=4)
def grade_partial(rows):
    return (len(rows), f"{len(rows)} of 4 rows right.")


def test_passing_answer_gets_full_marks_and_feedback():
    result = grade_sum(3)
    assert result == GradeResult("ex1_sum", True, 2.0, 2, "Right.")


def test_assertion_message_becomes_the_feedback():
    result = grade_sum(4)
    assert not result.passed and result.score == 0
    assert result.feedback == "total is 4, expected 3."


def test_none_answer_is_not_done_yet_and_names_the_variable():
    result = grade_sum(None)
    assert not result.passed and result.not_done
    assert result.feedback.startswith("Not done yet: `total` is still None")


def test_crashing_answer_becomes_feedback_naming_the_error():
    result = grade_sql("SELEC 1")
    assert not result.passed
    assert "OperationalError" in result.feedback and "syntax error" in result.feedback


def test_wrong_call_does_not_raise():
    result = grade_sum(1, 2)
    assert not result.passed and "called the wrong way" in result.feedback


def test_partial_credit_is_clamped_and_passed_only_at_full_marks():
    assert grade_partial([1, 2]).score == 2 and not grade_partial([1, 2]).passed
    assert grade_partial([1] * 9).score == 4 and grade_partial([1] * 9).passed


def test_check_returning_nonsense_is_reported_not_raised():
    @grader("ex_bad")
    def grade_bad(answer):
        return 42

    result = grade_bad(1)
    assert not result.passed and "returned int" in result.feedback and "instructor" in result.feedback


def test_mimebundle_has_text_html_and_machine_readable_json():
    bundle = grade_sum(3)._repr_mimebundle_()
    assert bundle["text/plain"].startswith("✓ ex1_sum: 2/2.")
    assert "ex1_sum" in bundle["text/html"]
    assert bundle[MIME_TYPE] == {
        "exercise": "ex1_sum",
        "passed": True,
        "score": 2.0,
        "max_score": 2,
        "feedback": "Right.",
    }
    assert grade_sum(1)._repr_mimebundle_()["text/plain"].startswith("✗")


def test_html_escapes_feedback():
    html = GradeResult("e", False, 0, 1, "<script>x</script>")._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_report_displays_the_bundle(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    result = grade_sum(3)
    assert report(result) is result
    assert shown and shown[0][1] is True and shown[0][0][MIME_TYPE]["exercise"] == "ex1_sum"


@pytest.mark.parametrize(
    "bundle",
    [
        [],
        {"exercise": "", "score": 1, "max_score": 1},
        {"exercise": "e", "score": "1", "max_score": 1},
        {"exercise": "e", "score": 1, "max_score": float("nan")},
        {"exercise": "e", "score": True, "max_score": 1},
    ],
)
def test_from_dict_rejects_malformed_bundles(bundle):
    with pytest.raises(ValueError):
        GradeResult.from_dict(bundle)


def test_from_dict_clamps_score_and_recomputes_passed():
    forged = GradeResult.from_dict(
        {"exercise": "e", "passed": True, "score": 99, "max_score": 2, "feedback": ""}
    )
    assert forged.score == 2 and forged.passed
    lying = GradeResult.from_dict({"exercise": "e", "passed": True, "score": 1, "max_score": 2})
    assert not lying.passed


def _executed_notebook(*bundles_per_cell):
    cells = []
    for bundles in bundles_per_cell:
        outputs = [new_output("stream", name="stdout", text="hello\n")]
        outputs += [new_output("display_data", data={"text/plain": "x", MIME_TYPE: b}) for b in bundles]
        cells.append(new_code_cell("...", outputs=outputs))
    return new_notebook(cells=cells)


def test_collect_reads_bundles_last_result_wins_order_of_first_appearance():
    first = grade_sum(4).to_dict()
    nb = _executed_notebook([first], [grade_sql("SELECT 1").to_dict()], [grade_sum(3).to_dict(), {"bad": 1}])
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # round trip as the harness reads it
    results = collect(nb)
    assert [r.exercise for r in results] == ["ex1_sum", "ex2_sql"]
    assert results[0].passed and results[1].passed


def test_collect_can_be_restricted_to_trusted_cells():
    nb = _executed_notebook([grade_sum(4).to_dict()], [grade_sum(3).to_dict()])
    assert collect(nb, cells=[0])[0].passed is False


def test_not_done_lists_several_names():
    result = not_done("e", 1, ["a", "b"])
    assert "`a`, `b` are still None" in result.feedback
