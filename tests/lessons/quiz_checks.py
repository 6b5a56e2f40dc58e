"""Checks that a lesson's quiz follows issue 14's rules, for the lessons' own fact tests.

The global balance test (across every quiz) lives elsewhere; these per-lesson checks keep
each lesson honest on its own: four options per question (two only for a true/false
question), a reason for every option, and the right answer neither given away by its
length nor parked on one letter.
"""

from __future__ import annotations

from collections import Counter

from utils.teaching.quiz import Quiz


def quiz_stats(quiz: Quiz) -> dict[str, object]:
    """Per-quiz figures: questions, options per question, right answer longest, letters used."""
    longest = 0
    letters: Counter[str] = Counter()
    for q in quiz.questions:
        right = next(c for c in q.choices if c.correct)
        if all(len(right.text) > len(c.text) for c in q.choices if not c.correct):
            longest += 1
        letters[q.answer] += 1
    return {
        "questions": len(quiz.questions),
        "options": [len(q.choices) for q in quiz.questions],
        "right_is_longest": longest,
        "letters": dict(sorted(letters.items())),
    }


def assert_quiz_balanced(quiz: Quiz, *, true_false: frozenset[int] = frozenset()) -> None:
    """Fail unless ``quiz`` has 4 balanced options per question (2 for the listed true/false ones)."""
    for number, q in enumerate(quiz.questions, 1):
        expected = 2 if number in true_false else 4
        assert len(q.choices) == expected, f"Q{number} has {len(q.choices)} options, expected {expected}"
        for choice in q.choices:
            assert len(choice.why) > 40, f"Q{number}: the reason for {choice.text!r} is too thin"
        texts = [len(c.text) for c in q.choices]
        assert max(texts) <= 2 * min(texts) + 10, f"Q{number}: option lengths are unbalanced: {texts}"
    stats = quiz_stats(quiz)
    n = stats["questions"]
    assert stats["right_is_longest"] <= max(1, round(0.25 * n)), (
        f"the right answer is the longest option in {stats['right_is_longest']} of {n} questions"
    )
    assert max(stats["letters"].values()) <= max(2, round(0.4 * n)), (
        f"right answers bunch on one letter: {stats['letters']}"
    )
