"""Lesson 10's figures and rules: what the lesson computes or states, checked."""

from __future__ import annotations

import numpy as np
import pytest

from utils.concepts import quality, security, serving


@pytest.mark.parametrize("seed", range(40))
def test_planted_defects_are_exactly_what_the_suite_flags(seed):
    rows, now, planted = quality.planted_customers(seed)
    assert quality.flagged(rows, now) == planted
    assert len(planted) == 9
    ages = [now - r["updated_at"] for r in rows]
    assert quality.MAX_AGE_HOURS in ages  # the boundary row is there, and not flagged
    assert not any((i, "timeliness") in planted for i, age in enumerate(ages) if age == quality.MAX_AGE_HOURS)


def test_dama_dmbok_has_eleven_knowledge_areas_around_governance():
    assert len(quality.DAMA_KNOWLEDGE_AREAS) == 11
    assert next(iter(quality.DAMA_KNOWLEDGE_AREAS)) == "Data governance"
    areas = set(quality.DAMA_KNOWLEDGE_AREAS)
    assert {"Metadata management", "Data quality", "Reference and master data"} <= areas


def test_each_dashboard_scenario_has_exactly_one_tool():
    for scenario in serving.DASHBOARD_SCENARIOS.values():
        assert len(serving.pick_dashboard_tool(scenario["needs"])) == 1
    tools = serving.DASHBOARD_TOOLS
    assert tools["Amazon QuickSight"]["open source"] is False
    assert tools["Apache Superset"]["licence"] == "Apache 2.0"
    assert tools["Metabase"]["licence"].startswith("AGPL")
    with pytest.raises(ValueError, match="Unknown need"):
        serving.pick_dashboard_tool(["free lunch"])


def test_cosine_search_ignores_length_and_ranks_by_direction():
    vectors = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    assert serving.nearest_neighbours(np.array([1.0, 0.1]), vectors, 2) == [1, 0]
    assert serving.cosine_similarities(np.array([1.0, 0.0]), vectors)[3] == -1.0  # zero vector last
    with pytest.raises(ValueError):
        serving.nearest_neighbours(np.array([1.0, 0.0]), vectors, 0)


def test_ivf_index_trades_recall_for_work_and_is_exact_when_it_searches_every_group():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 8))
    index = serving.IVFIndex(vectors, lists=8)
    exact = serving.nearest_neighbours(vectors[5], vectors, 5)
    found, work = index.search(vectors[5], 5, probe=8)
    assert found == exact and work == 200 + 8
    _, small = index.search(vectors[5], 5, probe=1)
    assert small < 200
    assert serving.recall_at_k([1, 2, 9], [1, 2, 3]) == pytest.approx(2 / 3)


def test_product_embeddings_one_hot_lines_plus_scale_and_price():
    products = [
        {"productName": "a", "productLine": "Ships", "productScale": "1:700", "buyPrice": 30},
        {"productName": "b", "productLine": "Planes", "productScale": "1:72", "buyPrice": 60},
    ]
    names, vectors = serving.product_embeddings(products)
    assert names == ["a", "b"] and vectors.shape == (2, 4)
    with pytest.raises(ValueError):
        serving.product_embeddings([])


class _Cursor:
    """A DB-API cursor that raises the pymysql-style error given for each statement."""

    def __init__(self, outcomes):
        self.outcomes = outcomes

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql):
        if self.outcomes[sql] is not None:
            raise Exception(*self.outcomes[sql])

    def fetchall(self):
        return []


class _Conn:
    def __init__(self, outcomes):
        self.outcomes, self.rollbacks = outcomes, 0

    def cursor(self):
        return _Cursor(self.outcomes)

    def rollback(self):
        self.rollbacks += 1


def test_probe_tells_refusals_from_other_errors_and_always_rolls_back():
    conn = _Conn({"ok": None, "no": (1142, "DELETE command denied"), "db": (1044, "denied to database"),
                  "gone": (1146, "no such table"), "bad": (1064, "syntax")})
    verdicts = {sql: security.probe_privilege(conn, sql) for sql in ("ok", "no", "db", "gone", "bad")}
    assert verdicts == {"ok": "allowed", "no": "denied", "db": "denied", "gone": "error", "bad": "error"}
    assert conn.rollbacks == 5
    assert security.error_code(Exception("no code")) is None
