import pytest

from utils.concepts.quality import (
    in_range,
    matches,
    not_null,
    not_older_than,
    one_of,
    run_checks,
    sample_customers,
    score_by_dimension,
    split_good_bad,
)
from utils.concepts.security import Grant, is_allowed, is_overbroad, mask_card, pseudonymise, unused_grants

CHECKS = [
    not_null("email"),
    matches("email", r"[^@\s]+@[^@\s]+\.[a-z]+"),
    in_range("creditLimit", 0, 250_000),
    one_of("country", ["France", "USA", "Australia", "Poland", "Germany"]),
    not_older_than("updated_h", now=0, max_age=24),
]


def test_each_planted_defect_is_caught():
    rows = [dict(r, updated_h=-r["updated_h"]) for r in sample_customers()]
    failures = run_checks(rows, CHECKS, unique=["customerNumber"])
    by_row = {(f.row, f.dimension) for f in failures}
    assert (2, "completeness") in by_row
    assert (3, "validity") in by_row
    assert (4, "uniqueness") in by_row
    assert (5, "validity") in by_row
    assert (6, "validity") in by_row  # a range check tests validity, not accuracy
    assert (7, "timeliness") in by_row
    assert not any(f.row in (0, 1) for f in failures)


def test_split_and_score():
    rows = [{"x": 1}, {"x": None}, {"x": 5}]
    failures = run_checks(rows, [not_null("x"), in_range("x", 0, 3)])
    good, bad = split_good_bad(rows, failures)
    assert good == [{"x": 1}] and bad == [{"x": None}, {"x": 5}]
    assert score_by_dimension(rows, failures) == {
        "validity": pytest.approx(0.667),
        "completeness": pytest.approx(0.667),
    }
    assert score_by_dimension([], []) == {}


def test_default_deny_and_wildcards():
    grants = [Grant("etl", "SELECT", "classicmodels.*")]
    assert is_allowed(grants, "etl", "SELECT", "classicmodels.orders")[0]
    allowed, reason = is_allowed(grants, "etl", "DELETE", "classicmodels.orders")
    assert not allowed and reason.startswith("denied")
    assert not is_allowed(grants, "analyst", "SELECT", "classicmodels.orders")[0]


def test_unused_and_overbroad_grants():
    grants = [Grant("etl", "SELECT", "db.*"), Grant("etl", "*", "*")]
    used = [("etl", "SELECT", "db.orders")]
    assert unused_grants(grants, used) == []
    assert unused_grants(grants[:1], []) == grants[:1]
    assert [is_overbroad(g) for g in grants] == [False, True]


def test_masking_and_pseudonyms():
    assert mask_card("4111 1111 1111 1234") == "************1234"
    with pytest.raises(ValueError):
        mask_card("12")
    assert pseudonymise("alice", "s") == pseudonymise("alice", "s") != pseudonymise("bob", "s")
    assert len(pseudonymise("alice", "s")) == 12
