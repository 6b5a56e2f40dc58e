"""``python -m utils.teaching.exercises --count``: declared exercises per lesson.

Prints one line per lesson (``01_what_is_data_engineering  2``) and the total, marking the
lessons 01-13 below the minimum. ``--strict`` exits 1 unless every lesson 01-13 has at least
``MIN_PER_LESSON`` exercises and the total is at least ``MIN_TOTAL`` (issue #13's bar).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from utils.teaching.exercises import MIN_PER_LESSON, MIN_TOTAL, count_by_lesson, lesson_number


def main(argv: Sequence[str] | None = None) -> int:
    """Print the count table; with ``--strict``, exit 1 when the course is below the bar."""
    parser = argparse.ArgumentParser(prog="python -m utils.teaching.exercises",
                                     description="Declared lesson exercises per lesson.")
    parser.add_argument("--count", action="store_true", help="print the count per lesson (the default)")
    parser.add_argument("--strict", action="store_true",
                        help=f"exit 1 unless lessons 01-13 have >= {MIN_PER_LESSON} each "
                             f"and >= {MIN_TOTAL} in all")
    args = parser.parse_args(argv)
    counts = count_by_lesson()
    below = []
    for stem, count in counts.items():
        graded_lesson = (lesson_number(stem) or 0) >= 1
        short = graded_lesson and count < MIN_PER_LESSON
        if short:
            below.append(stem)
        print(f"{stem:50} {count:3}{'   < ' + str(MIN_PER_LESSON) if short else ''}")
    total = sum(counts.values())
    print(f"{'total':50} {total:3}{'   < ' + str(MIN_TOTAL) if total < MIN_TOTAL else ''}")
    if args.strict and (below or total < MIN_TOTAL):
        print(f"below the bar: {len(below)} lesson(s) with < {MIN_PER_LESSON}, total {total} "
              f"(needs >= {MIN_TOTAL})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
