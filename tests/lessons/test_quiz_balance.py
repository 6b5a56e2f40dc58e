"""Quizzes cannot be passed by guessing: balanced option lengths, spread answers, 4 options, reasons.

Across all quizzes (``utils.teaching.quizzes.get_quiz``, in the order learners see the choices):

- the correct option is the longest (ties included: a tie still favours it) in at most 35% of
  questions; test-wise learners pick the longest option;
- no answer position (a, b, c, d) holds more than 40% of the correct answers;
- every question has 4 options, or 2 when it is an honest true/false (its options are True/False
  or Yes/No, optionally followed by a reason);
- every choice has a non-empty ``why`` (the feedback that says why it is right or wrong).

The first and third rules fail on the quizzes as first written; the quizzes are being rewritten
(#14), so those two tests are expected to fail until then. Each test prints the current figures
(``pytest -rA tests/lessons/test_quiz_balance.py`` or ``-s``).
"""

from __future__ import annotations

import re
from collections import Counter

from utils.teaching.quiz import Question
from utils.teaching.quizzes import LESSONS, get_quiz

MAX_LONGEST_SHARE = 0.35
MAX_POSITION_SHARE = 0.40
OPTIONS = 4
TRUE_FALSE = ({"true", "false"}, {"yes", "no"})


QUESTIONS = [(lesson, number, question) for lesson in LESSONS
             for number, question in enumerate(get_quiz(lesson).questions, start=1)]


def _where(lesson: int, number: int) -> str:
    return f"lesson {lesson:02d} Q{number}"


def correct_is_longest(question: Question) -> bool:
    """True when no other option is longer than the correct one (in characters)."""
    right = next(choice.text for choice in question.choices if choice.correct)
    return len(right) >= max(len(choice.text) for choice in question.choices)


def is_true_false(question: Question) -> bool:
    """True when the two options are True/False or Yes/No (each may go on with a reason)."""
    first_words = {re.split(r"\W+", choice.text.strip().lower(), maxsplit=1)[0]
                   for choice in question.choices}
    return len(question.choices) == 2 and first_words in TRUE_FALSE


def test_there_are_quizzes_to_check() -> None:
    assert len(QUESTIONS) >= 3 * len(LESSONS)


def test_is_true_false_accepts_only_true_false_or_yes_no() -> None:
    from utils.teaching.quiz import question

    assert is_true_false(question("?", ("True", True, "r"), ("False", False, "w")))
    assert is_true_false(question("?", ("No: AWS restarts it", True, "r"), ("Yes, for good", False, "w")))
    assert not is_true_false(question("?", ("Upstream", True, "r"), ("Downstream", False, "w")))
    assert not is_true_false(question("?", ("True", True, "r"), ("False", False, "w"), ("Maybe", False, "w")))


def test_the_correct_option_is_rarely_the_longest() -> None:
    longest = [_where(lesson, number) for lesson, number, q in QUESTIONS if correct_is_longest(q)]
    share = len(longest) / len(QUESTIONS)
    print(f"correct option is the longest in {len(longest)}/{len(QUESTIONS)} questions ({share:.0%}; "
          f"limit {MAX_LONGEST_SHARE:.0%}): {', '.join(longest)}")
    assert share <= MAX_LONGEST_SHARE, (
        f"the correct option is the longest in {len(longest)} of {len(QUESTIONS)} questions ({share:.0%}, "
        f"more than {MAX_LONGEST_SHARE:.0%}): balance the options' lengths in {', '.join(longest)}")


def test_the_correct_position_is_spread() -> None:
    positions = Counter(q.answer for _, _, q in QUESTIONS)
    letter, count = positions.most_common(1)[0]
    share = count / len(QUESTIONS)
    figures = ", ".join(f"{k}: {v}" for k, v in sorted(positions.items()))
    print(f"correct positions over {len(QUESTIONS)} questions: {figures} "
          f"(most: {letter} {share:.0%}; limit {MAX_POSITION_SHARE:.0%})")
    assert share <= MAX_POSITION_SHARE, (
        f"{count} of {len(QUESTIONS)} correct answers ({share:.0%}) are at position {letter!r}, more than "
        f"{MAX_POSITION_SHARE:.0%} ({figures}); move some (rotate=False keeps the written order)")


def test_every_question_has_four_options_or_is_true_false() -> None:
    sizes = Counter(len(q.choices) for _, _, q in QUESTIONS)
    wrong = [f"{_where(lesson, number)} ({len(q.choices)} options)" for lesson, number, q in QUESTIONS
             if len(q.choices) != OPTIONS and not is_true_false(q)]
    print(f"options per question: {dict(sorted(sizes.items()))}; not 4 and not true/false: {len(wrong)}")
    assert not wrong, f"these need {OPTIONS} options (or True/False, Yes/No with 2): {', '.join(wrong)}"


def test_every_choice_explains_why() -> None:
    missing = [f"{_where(lesson, number)} {letter})" for lesson, number, q in QUESTIONS
               for letter, choice in zip(q.letters, q.choices, strict=True) if not choice.why.strip()]
    print(f"choices without a why: {len(missing)}")
    assert not missing, f"these choices do not say why they are right or wrong: {', '.join(missing)}"
