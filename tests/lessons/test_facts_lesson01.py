"""Lesson 01's figures: the data-centric AI experiment shows what the lesson says it shows.

The lesson claims that more data and a more careful model do not beat "nobody buys" on the
broken log, and that fixing the data (units and duplicates) does, by a wide margin. These tests
recompute those figures from utils.concepts.datacentric, the same calls the lesson makes.
"""

from __future__ import annotations

from utils.concepts import datacentric as dc

TRAIN = dc.generate_sessions(300, seed=1)
TEST = dc.generate_sessions(1000, seed=2, defects=False)
NOBODY_BUYS = sum(not s.bought for s in TEST) / len(TEST)


def test_model_centric_attempts_do_no_better_than_saying_nobody_buys():
    more = dc.generate_sessions(3000, seed=3)
    for threshold in (dc.fit_threshold(TRAIN), dc.fit_threshold(more), dc.fit_best_threshold(TRAIN)):
        assert dc.accuracy(threshold, TEST) <= NOBODY_BUYS + 0.01


def test_fixing_the_data_gains_far_more_than_either():
    fixed = dc.clean_sessions(TRAIN)
    assert len(fixed) < len(TRAIN)
    for fit in (dc.fit_threshold, dc.fit_best_threshold):
        assert dc.accuracy(fit(fixed), TEST) >= NOBODY_BUYS + 0.15


def test_the_defects_are_the_ones_the_task_names():
    ids = [s.session_id for s in TRAIN]
    assert len(ids) > len(set(ids)), "the training log should contain retried (repeated) sessions"
    assert all(s.server != dc.SECONDS_SERVER or s.duration >= 30 for s in TRAIN), "web-2 logs seconds"
    fixed = dc.clean_sessions(TRAIN)
    assert len({s.session_id for s in fixed}) == len(fixed)
    assert max(s.duration for s in fixed) < 60 and all(s.server in ("web-1", "web-2") for s in fixed)
