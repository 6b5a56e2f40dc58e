"""The quiz engine and every lesson's quiz: right answers pass, wrong ones fail with feedback."""

import pytest

from utils.teaching.quiz import LETTERS, Choice, Question, Quiz, question, results_html
from utils.teaching.quizzes import LESSONS, get_quiz


def small_quiz() -> Quiz:
    return Quiz(
        "Demo",
        (
            question("2 + 2?", ("4", True, "arithmetic"), ("5", False, "off by one"), rotate=False),
            question("Sky?", ("green", False, "no"), ("blue", True, "yes"), rotate=False),
        ),
    )


def test_check_marks_right_and_wrong_with_feedback():
    results = small_quiz().check({1: "a", 2: "a"})
    assert [r.correct for r in results] == [True, False]
    assert results[0].feedback.startswith("Correct.") and "arithmetic" in results[0].feedback
    assert results[1].feedback.startswith("Not quite.") and "no" in results[1].feedback


def test_unanswered_and_unknown_letters_are_wrong_with_guidance():
    results = small_quiz().check({1: None, 2: "z"})
    assert not results[0].correct and "Not answered" in results[0].feedback
    assert not results[1].correct and "use one of a, b" in results[1].feedback


def test_answers_are_case_and_space_tolerant():
    assert small_quiz().score({1: " A ", 2: "B"}) == (2, 2)


def test_report_and_html_summarise_the_score():
    quiz = small_quiz()
    assert quiz.report({1: "a"}).startswith("Demo: 1/2 correct")
    html = results_html(quiz.check({1: "a", 2: "b"}))
    assert "2/2 correct" in html and "#1a7f37" in html


def test_question_needs_exactly_one_correct_choice():
    with pytest.raises(ValueError, match="exactly one"):
        Question("?", (Choice("a", True, ""), Choice("b", True, "")))
    with pytest.raises(ValueError, match="exactly one"):
        Question("?", (Choice("a", False, ""), Choice("b", False, "")))


def test_rotation_is_deterministic_and_keeps_the_answer():
    q1 = question("Which?", ("x", False, ""), ("y", True, "right"), ("z", False, ""))
    q2 = question("Which?", ("x", False, ""), ("y", True, "right"), ("z", False, ""))
    assert q1 == q2
    assert q1.choices[LETTERS.index(q1.answer)].text == "y"


def test_render_builds_a_widget_whose_button_checks_answers():
    quiz = small_quiz()
    box = quiz.render()
    radios = [w for w in box.children if w.__class__.__name__ == "RadioButtons"]
    button, output = box.children[-2], box.children[-1]
    radios[0].value, radios[1].value = "a", "b"
    button.click()
    assert "2/2 correct" in output.value


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_quiz_right_answers_pass(lesson):
    quiz = get_quiz(lesson)
    assert 3 <= len(quiz.questions) <= 6
    assert quiz.score(quiz.answer_key()) == (len(quiz.questions), len(quiz.questions))


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_wrong_choice_is_marked_wrong_with_its_own_explanation(lesson):
    quiz = get_quiz(lesson)
    for number, q in enumerate(quiz.questions, start=1):
        for letter, choice in zip(q.letters, q.choices, strict=True):
            result = quiz.check({number: letter})[number - 1]
            assert result.correct == choice.correct
            assert choice.why in result.feedback
            assert len(choice.why) > 15, f"lesson {lesson} Q{number}: feedback too thin"


def test_unknown_lesson_quiz_is_explained():
    with pytest.raises(KeyError, match="No quiz for lesson 99"):
        get_quiz(99)
