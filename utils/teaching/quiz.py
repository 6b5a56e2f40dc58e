"""Multiple-choice quizzes with specific feedback, checkable without a browser.

A :class:`Quiz` is plain data: questions, their choices, and for every choice
the reason it is right or wrong. :meth:`Quiz.check` is a pure function from the
learner's answers to per-question results, so it is unit-tested like any other
code; :meth:`Quiz.render` wraps the same logic in ipywidgets for the notebook.

Answers are given as choice letters (``"a"``, ``"b"``...) keyed by question
number starting at 1, e.g. ``quiz.check({1: "b", 2: "a"})``.
"""

from __future__ import annotations

import html
import zlib
from dataclasses import dataclass, field
from typing import Any

from utils.teaching.widgets import FALLBACK_CLASS, Html, with_fallback

LETTERS = "abcdefghij"
MARK_RIGHT = "\u2713"  # ✓ and ✗: DejaVu Sans has them; emoji check marks need an emoji font
MARK_WRONG = "\u2717"
STATIC_NOTE = "Run this cell in JupyterLab to answer the quiz and get feedback on each choice."
WIDGET_NOTE = ""  # the static quiz already says to run the cell; a second note would repeat it


@dataclass(frozen=True)
class Choice:
    """One possible answer and why it is right or wrong."""

    text: str
    correct: bool
    why: str


@dataclass(frozen=True)
class Question:
    """A single-answer question: exactly one of its choices is correct."""

    prompt: str
    choices: tuple[Choice, ...]

    def __post_init__(self) -> None:
        n_correct = sum(choice.correct for choice in self.choices)
        if n_correct != 1:
            raise ValueError(
                f"Question {self.prompt!r} has {n_correct} correct choices; "
                "a single-answer question needs exactly one."
            )
        if not 2 <= len(self.choices) <= len(LETTERS):
            raise ValueError(f"Question {self.prompt!r} needs 2-{len(LETTERS)} choices.")

    @property
    def answer(self) -> str:
        """The letter of the correct choice."""
        return next(LETTERS[i] for i, c in enumerate(self.choices) if c.correct)

    @property
    def letters(self) -> str:
        """The letters this question accepts, e.g. ``"abcd"``."""
        return LETTERS[: len(self.choices)]


@dataclass(frozen=True)
class Result:
    """The outcome of one answered (or unanswered) question."""

    number: int
    answered: str | None
    correct: bool
    feedback: str


@dataclass(frozen=True)
class Quiz:
    """An ordered set of questions with a title."""

    title: str
    questions: tuple[Question, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not 1 <= len(self.questions) <= 10:
            raise ValueError("A quiz needs between 1 and 10 questions.")

    def answer_key(self) -> dict[int, str]:
        """Return the correct letter of every question, keyed by question number."""
        return {i: q.answer for i, q in enumerate(self.questions, start=1)}

    def check(self, answers: dict[int, str | None]) -> list[Result]:
        """Mark ``answers`` (question number -> letter) and explain each result.

        Unanswered questions are marked wrong with a nudge to answer them; an
        unknown letter is marked wrong with the letters that are allowed.
        """
        results = []
        for number, question in enumerate(self.questions, start=1):
            given = answers.get(number)
            letter = given.strip().lower() if isinstance(given, str) else None
            results.append(_check_one(number, question, letter))
        try:  # the learner's progress record (utils.teaching.progress): a convenience, never fatal
            from utils.teaching.progress import record_quiz
        except ImportError:
            return results
        record_quiz(self, results)
        return results

    def score(self, answers: dict[int, str | None]) -> tuple[int, int]:
        """Return ``(number correct, number of questions)`` for ``answers``."""
        results = self.check(answers)
        return sum(r.correct for r in results), len(results)

    def report(self, answers: dict[int, str | None]) -> str:
        """Return a plain-text report of :meth:`check`, one line per question."""
        results = self.check(answers)
        lines = [f"{self.title}: {sum(r.correct for r in results)}/{len(results)} correct"]
        for r in results:
            mark = "right" if r.correct else "wrong"
            lines.append(f"  Q{r.number} ({r.answered or '-'}): {mark}. {r.feedback}")
        return "\n".join(lines)

    def static_text(self) -> str:
        """The quiz as plain text: title, numbered questions and lettered choices (no answers)."""
        lines = [self.title, ""]
        for number, question in enumerate(self.questions, start=1):
            lines.append(f"Q{number}. {question.prompt}")
            choices = zip(question.letters, question.choices, strict=True)
            lines += [f"   {letter}) {choice.text}" for letter, choice in choices]
            lines.append("")
        lines.append(STATIC_NOTE)
        return "\n".join(lines)

    def static_html(self) -> str:
        """The quiz as static HTML for exports: the questions, then the answers and why, folded away."""
        parts = [f'<div class="{FALLBACK_CLASS} delab-quiz"><h4>{html.escape(self.title)}</h4>']
        for number, question in enumerate(self.questions, start=1):
            parts.append(f"<p><b>Q{number}.</b> {html.escape(question.prompt)}</p><ul>")
            parts += [f"<li>{letter}) {html.escape(choice.text)}</li>"
                      for letter, choice in zip(question.letters, question.choices, strict=True)]
            parts.append("</ul>")
        parts.append(f"<p><i>{html.escape(STATIC_NOTE)}</i></p><details><summary>Answers and why</summary>")
        for number, question in enumerate(self.questions, start=1):
            parts.append(f"<p><b>Q{number}: {question.answer}</b></p><ul>")
            for letter, choice in zip(question.letters, question.choices, strict=True):
                mark = MARK_RIGHT if choice.correct else MARK_WRONG
                parts.append(f"<li>{mark} {letter}) {html.escape(choice.why)}</li>")
            parts.append("</ul>")
        parts.append("</details></div>")
        return "".join(parts)

    def render(self) -> Any:
        """Return an ipywidgets box: one radio group per question and a Check button.

        Displayed, the box also emits :meth:`static_html` as a static fallback, which HTML
        exports, GitHub and nbviewer show and JupyterLab hides (:mod:`utils.teaching.widgets`).
        """
        import ipywidgets as widgets  # imported here so the data model needs no UI

        radios = []
        rows: list[Any] = [widgets.HTML(f"<h4>{html.escape(self.title)}</h4>")]
        for number, question in enumerate(self.questions, start=1):
            options = [(f"{LETTERS[i]}) {c.text}", LETTERS[i]) for i, c in enumerate(question.choices)]
            radio = widgets.RadioButtons(options=options, value=None, layout={"width": "max-content"})
            radios.append(radio)
            rows += [widgets.HTML(f"<b>Q{number}.</b> {html.escape(question.prompt)}"), radio]
        button = widgets.Button(description="Check my answers", button_style="primary")
        output = widgets.HTML()

        def on_click(_: Any) -> None:
            answers = {i: r.value for i, r in enumerate(radios, start=1)}
            output.value = results_html(self.check(answers))

        button.on_click(on_click)
        box = widgets.VBox([*rows, button, output])
        return with_fallback(box, Html(self.static_html(), self.static_text()), note=WIDGET_NOTE)


def _check_one(number: int, question: Question, letter: str | None) -> Result:
    if letter is None or letter == "":
        return Result(number, None, False, "Not answered yet: pick one choice.")
    if letter not in question.letters:
        allowed = ", ".join(question.letters)
        return Result(number, letter, False, f"'{letter}' is not a choice here; use one of {allowed}.")
    choice = question.choices[LETTERS.index(letter)]
    if choice.correct:
        return Result(number, letter, True, f"Correct. {choice.why}")
    return Result(number, letter, False, f"Not quite. {choice.why}")


def results_html(results: list[Result]) -> str:
    """Render check results as HTML (green for right, red for wrong) for the widget."""
    correct = sum(r.correct for r in results)
    parts = [f"<p><b>{correct}/{len(results)} correct</b></p>"]
    for r in results:
        colour = "#1a7f37" if r.correct else "#cf222e"
        mark = MARK_RIGHT if r.correct else MARK_WRONG
        parts.append(f'<p style="color:{colour}">{mark} Q{r.number}: {html.escape(r.feedback)}</p>')
    return "".join(parts)


def question(prompt: str, *choices: tuple[str, bool, str], rotate: bool = True) -> Question:
    """Build a :class:`Question` from ``(text, correct, why)`` tuples (a compact syntax).

    With ``rotate`` the choices are rotated by a fixed amount derived from the
    prompt, so authors can write the right answer anywhere without every quiz
    ending up with the same letter; the order is the same on every run.
    """
    items = [Choice(text, correct, why) for text, correct, why in choices]
    if rotate and items:
        shift = zlib.crc32(prompt.encode()) % len(items)
        items = items[shift:] + items[:shift]
    return Question(prompt, tuple(items))
