"""Turning stakeholder conversations into requirements you can build and test.

:func:`lint_requirement` flags wording that sounds precise but is not ("real-time",
"fast", "all the data") unless a measurable figure comes with it, and suggests
the question to ask. :func:`playback` writes the summary you read back to a
stakeholder to confirm you understood them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

#: The thinking loop of a data engineer; the last step leads back to the first.
THINKING_CYCLE: tuple[tuple[str, str], ...] = (
    ("Identify business goals and stakeholder needs", "why is this worth doing, and for whom?"),
    ("Define system requirements", "what must the system do, and how well (freshness, volume, cost)?"),
    ("Choose tools and technologies", "which components meet the requirements at a sensible cost?"),
    ("Build, evaluate, iterate and evolve", "ship a first version, measure it, improve it as needs change"),
)

#: What to find out in a requirements conversation.
GATHERING_CHECKLIST: tuple[str, ...] = (
    "existing systems: what data and tools are already in place?",
    "pain points: what goes wrong with them today, and what does it cost?",
    "planned actions: what will people do with the data once they have it?",
    "other stakeholders: who else must we talk to before we can build?",
)

#: Vague words, and the question that turns each into something measurable.
VAGUE_TERMS: dict[str, str] = {
    "real-time": "how old may the data be when it is used? e.g. 'at most 5 minutes after the event'",
    "real time": "how old may the data be when it is used? e.g. 'at most 5 minutes after the event'",
    "fast": "how fast, measured how? e.g. 'dashboard loads in under 3 seconds'",
    "quickly": "how quickly? give a time limit",
    "up-to-date": "how fresh? e.g. 'refreshed every hour'",
    "scalable": "to what volume? e.g. '10x today's 2 GB/day'",
    "all the data": "which sources, tables and fields are actually needed?",
    "user-friendly": "for whom, doing what? e.g. 'analysts query it with SQL'",
    "reliable": "what availability or failure rate is acceptable? e.g. '99.5% of daily runs succeed'",
    "as soon as possible": "by which date, and what is the cost of being late?",
    "cheap": "what is the monthly budget?",
}

#: Lesson 05, exercise 2: a new request and the notes from the follow-up questions.
VP_SALES_REQUEST = (
    "I need to see how each of our seven offices is selling, always up to date, and it has to be fast."
)
VP_SALES_NOTES: tuple[str, ...] = (
    "Today the EMEA sales manager exports last week's orders from the order system into a spreadsheet "
    "every Monday and emails it round; it takes her about 4 hours each time.",
    "By Friday the spreadsheet's figures are 5 days old, and last quarter 2 offices were counted twice "
    "after a copy-paste slip.",
    "The VP uses the figures in the Monday meeting to move sales reps between territories, and to set each "
    "office's quarterly targets.",
    "The managers of the other six offices want the same view of their own office.",
    "The order system's database is run by the IT team; its nightly backup runs from 01:00 to 03:00.",
    "Asked what 'always up to date' means: 'If it shows the orders up to four hours old during office "
    "hours, that is fine.'",
    "Asked what 'fast' means: 'The page should open in under 5 seconds.'",
)

_MEASURE = re.compile(
    r"\b\d+(?:\.\d+)?\s*(?:%|ms|s|sec|seconds?|minutes?|min|hours?|h|days?|weeks?|gb|tb|mb|rows|users|usd|\$|x)(?![a-z])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Requirement:
    """One requirement: ``kind`` is 'business', 'functional' or 'non-functional'."""

    kind: str
    text: str
    stakeholder: str

    def __post_init__(self) -> None:
        if self.kind not in ("business", "functional", "non-functional"):
            raise ValueError("kind must be 'business', 'functional' or 'non-functional'.")


def has_measure(text: str) -> bool:
    """True when ``text`` contains a number with a unit (5 minutes, 99.5%, 2 GB...)."""
    return bool(_MEASURE.search(text))


def vague_terms(text: str) -> list[str]:
    """The terms of :data:`VAGUE_TERMS` that ``text`` uses, sorted; none when it states a measure.

    A term counts as a whole word or phrase in any case ("fast" is not in "breakfast"); a
    requirement that carries a figure with a unit ("under 3 seconds") has made it testable.
    """
    if has_measure(text):
        return []
    lowered = text.lower()
    # A hyphen counts as part of a word, so "real-time" never also matches "real time" or "time".
    return sorted(term for term in VAGUE_TERMS
                  if re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", lowered))


def lint_requirement(text: str) -> list[str]:
    """Return the problems with a requirement's wording (an empty list means it reads well)."""
    found = set(vague_terms(text))
    problems = [f"'{term}' is vague: {question}" for term, question in VAGUE_TERMS.items() if term in found]
    if len(text.split()) < 4:
        problems.append("too short to act on: say who needs what, and how well")
    return problems


def playback(requirements: list[Requirement]) -> str:
    """The summary you read back to stakeholders, grouped by kind, with open questions."""
    lines = ["Here is what I understood - please correct anything I got wrong:"]
    for kind in ("business", "functional", "non-functional"):
        items = [r for r in requirements if r.kind == kind]
        if items:
            lines.append(f"{kind.capitalize()} requirements:")
            lines += [f"  - {r.text} (from {r.stakeholder})" for r in items]
    questions = [(r, p) for r in requirements for p in lint_requirement(r.text)]
    if questions:
        lines.append("Open questions:")
        lines += [f"  - {r.stakeholder}: {p}" for r, p in questions]
    return "\n".join(lines)


def plot_thinking_cycle(ax: Any = None) -> Any:
    """Draw :data:`THINKING_CYCLE` as a loop of four boxes joined by curved arrows."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.5))
    n = len(THINKING_CYCLE)
    for i, (name, _) in enumerate(THINKING_CYCLE):
        angle = math.pi / 2 - 2 * math.pi * i / n
        ax.text(
            math.cos(angle),
            math.sin(angle),
            name.replace(" and ", "\nand "),
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round", "fc": "#cfe2ff"},
        )
        nxt = math.pi / 2 - 2 * math.pi * (i + 1) / n
        ax.annotate(
            "",
            xy=(0.55 * math.cos(nxt + 0.5), 0.55 * math.sin(nxt + 0.5)),
            xytext=(0.55 * math.cos(angle - 0.5), 0.55 * math.sin(angle - 0.5)),
            arrowprops={"arrowstyle": "->", "connectionstyle": "arc3,rad=-0.3", "lw": 1.5},
        )
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.4, 1.4)
    ax.axis("off")
    ax.set_title("The thinking loop")
    return ax
