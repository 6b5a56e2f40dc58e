"""Lesson 03's facts: every era boundary comes from ONE table and agrees everywhere (issue 14).

The bug this guards against: the AWS S3/EC2 launch (2006) sat in the "1998-2007" era on the
timeline while the section on the cloud era opened with it. Now the eras are computed from
``history.ERA_STARTS`` and the lesson's section headings, the years its sections name, the
timeline's band labels and the quiz must agree with them.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402

from utils.concepts import history  # noqa: E402
from utils.teaching.quizzes import get_quiz  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "solutions" / "lessons" / "03_history_of_data_engineering.ipynb"
SPAN_HEADING = re.compile(r"^## ((?:\d{4}-\d{4})|(?:Since \d{4})): ")


def era_sections() -> dict[str, str]:
    """Each '## <span>: ...' section of the lesson: span -> its text (up to the next heading)."""
    sections, current = {}, None
    for cell in nbformat.read(LESSON, as_version=4).cells:
        if cell.cell_type != "markdown":
            current = None
            continue
        match = SPAN_HEADING.match(cell.source)
        if match:
            current = match.group(1)
            sections[current] = ""
        elif cell.source.startswith("#"):
            current = None
        if current is not None:
            sections[current] += cell.source
    return sections


def test_eras_are_computed_from_one_table_and_tile_the_timeline():
    assert [(e.name, e.start, e.theme) for e in history.ERAS] == list(history.ERA_STARTS)
    for earlier, later in zip(history.ERAS, history.ERAS[1:], strict=False):
        assert earlier.end == later.start - 1
    assert history.ERAS[-1].end == history.LAST_YEAR


def test_the_s3_and_ec2_launch_opens_the_cloud_era():
    launch = next(m for m in history.MILESTONES if "S3" in m.event and "EC2" in m.event)
    assert launch.year == 2006
    cloud = history.era_of(launch.year)
    assert cloud.name == "Cloud & streaming" and cloud.start == launch.year
    assert history.era_of(2005).name == "Web & big data"


def test_section_headings_are_exactly_the_eras_in_order():
    assert list(era_sections()) == [history.era_span(era) for era in history.ERAS]


@pytest.mark.parametrize("era", history.ERAS, ids=lambda era: era.name)
def test_every_year_a_section_names_lies_in_its_era(era):
    text = era_sections()[history.era_span(era)]
    years = [int(y) for y in re.findall(r"\b(1[89]\d\d|20\d\d)\b", text)]
    outside = [y for y in years if not era.start <= y <= era.end]
    assert not outside, f"the section {history.era_span(era)} names {outside}, outside {era.start}-{era.end}"


def test_the_timeline_labels_each_band_with_its_span():
    ax = history.plot_timeline()
    labels = [t.get_text() for t in ax.texts]
    plt.close("all")
    for era in history.ERAS:
        assert any(history.era_span(era).replace("Since", "since") in label for label in labels), era


def test_the_lab_stack_is_dated_with_the_same_table():
    assert history.era_of(2006).name == "Cloud & streaming"
    s3 = next(idea for idea in history.LAB_STACK if "gigabyte-month" in idea.part)
    assert history.era_of(s3.year).name == "Cloud & streaming"
    assert [history.era_name_from_starts(i.year, history.ERA_STARTS, history.LAST_YEAR)
            for i in history.LAB_STACK] == [history.era_of(i.year).name for i in history.LAB_STACK]


def test_the_quiz_dates_agree_with_the_milestones():
    """A year the quiz gives right after S3, Kafka, Redshift, Athena or MapReduce is the milestone's year."""
    quiz_text = " ".join(
        " ".join([q.prompt, *(c.text + " " + c.why for c in q.choices)]) for q in get_quiz(3).questions
    )
    checked = 0
    for keyword in ("S3", "Kafka", "Redshift", "Athena", "MapReduce"):
        milestone = next(m for m in history.MILESTONES if keyword in m.event)
        for year in re.findall(rf"{keyword}\W{{1,3}}(\d{{4}})\b", quiz_text):  # "S3, 2006", "Athena (2016)"
            assert int(year) == milestone.year, f"quiz: {keyword} {year}; timeline: {milestone.year}"
            checked += 1
    assert checked >= 4, "the quiz should date the eras' landmarks (S3, Kafka, Redshift, Athena, MapReduce)"
