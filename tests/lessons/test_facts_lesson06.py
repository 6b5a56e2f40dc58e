"""Lesson 06's facts and figures: what the lesson computes and states, tested."""

from __future__ import annotations

import nbformat

from tests.lessons.quiz_checks import assert_quiz_balanced
from utils.concepts import regions
from utils.teaching.exercises import LESSON_SOLUTIONS
from utils.teaching.quizzes import get_quiz

LESSON = LESSON_SOLUTIONS / "06_the_aws_cloud_and_regions.ipynb"


def test_the_region_picker_slider_label_is_not_cut():
    """Issue 14: the slider read 'latency w...'; a description width of 'initial' shows it whole."""
    cells = nbformat.read(LESSON, as_version=4).cells
    picker = next(c.source for c in cells if "FloatSlider" in c.source)
    assert picker.count('"description_width": "initial"') >= 1


def test_pick_region_orders_by_the_exact_score_not_the_rounded_one():
    users = [regions.UserGroup("Paris", 48.86, 2.35, 3), regions.UserGroup("Madrid", 40.42, -3.70, 1)]
    ranked = regions.pick_region(users, latency_weight=0.0, cost_weight=1.0)
    prices = [s.usd_hour for s in ranked]
    assert prices == sorted(prices)  # price only: cheapest first, ties by code
    assert [s.code for s in ranked[:3]] == ["us-east-1", "us-east-2", "us-west-2"]


def test_quiz_figures_match_the_lesson_model():
    """Q5's explanations quote traffic-weighted latencies: recompute them with the lesson's model."""
    users = [regions.UserGroup("Sydney", -33.87, 151.21, 9), regions.UserGroup("London", 51.51, -0.13, 1)]
    latency = {s.code: s.latency_ms for s in regions.pick_region(users, latency_weight=1, cost_weight=0)}
    assert round(latency["ap-southeast-2"]) == 24
    assert round(latency["ap-south-1"]) == 138
    assert round(latency["eu-west-2"]) == 214
    assert min(latency, key=latency.get) == "ap-southeast-2"


def test_quiz_is_balanced():
    assert_quiz_balanced(get_quiz(6))
