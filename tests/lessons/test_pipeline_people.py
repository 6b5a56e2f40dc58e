import pytest

from utils.concepts.pipeline import Event, generate_raw_events, parse_line, run_pipeline
from utils.concepts.requirements import Requirement, has_measure, lint_requirement, playback
from utils.concepts.stakeholders import Project, direction, hours_recovered, prioritize, value_per_week


def test_parse_line_accepts_good_and_rejects_bad():
    assert parse_line("12|u1|home") == Event(12, "u1", "home")
    for bad in ("12|u1", "??|u1|home", "12| |home", "12|u1|nowhere", ""):
        assert parse_line(bad) is None


def test_pipeline_is_deterministic_and_accounts_for_every_line():
    raw = generate_raw_events(40, seed=42)
    assert raw == generate_raw_events(40, seed=42)
    run = run_pipeline(raw)
    assert run.ingested + len(run.rejected) == run.raw_lines == 40
    assert sum(run.page_views.values()) == run.ingested
    assert run.rejected, "the generator should produce some damaged lines"


def test_stakeholder_directions():
    assert direction("Software engineers") == "upstream"
    assert direction("data scientists") == "downstream"
    with pytest.raises(KeyError):
        direction("astronaut")


def test_prioritize_by_value_per_week_and_unrequested_work_is_worth_nothing():
    projects = [
        Project("shiny rewrite", 500_000, 10, None),
        Project("sales dashboard", 60_000, 2, "marketing"),
        Project("churn features", 200_000, 8, "data science"),
    ]
    ranked = prioritize(projects)
    assert [name for name, _ in ranked] == ["sales dashboard", "churn features", "shiny rewrite"]
    assert value_per_week(projects[0]) == 0
    with pytest.raises(ValueError):
        value_per_week(Project("x", 1, 0, "y"))


def test_hours_recovered():
    assert hours_recovered(3, 40, 0.8, 0.5) == pytest.approx(48)
    with pytest.raises(ValueError):
        hours_recovered(1, 40, 1.5, 0.5)


def test_lint_flags_vague_words_unless_measured():
    assert any("real-time" in p for p in lint_requirement("Marketing wants a real-time dashboard"))
    assert lint_requirement("Sales per product line refreshed every 15 minutes for analysts") == []
    assert lint_requirement("The dashboard must be fast: under 3 seconds to load") == []
    assert any("too short" in p for p in lint_requirement("fast"))
    assert has_measure("99.5% of runs") and not has_measure("very reliable")


def test_playback_groups_by_kind_and_lists_open_questions():
    reqs = [
        Requirement("business", "Marketing wants recommendations that are up-to-date", "marketing"),
        Requirement(
            "non-functional", "Data at most 60 minutes old when the dashboard reads it", "data scientist"
        ),
    ]
    text = playback(reqs)
    assert "Business requirements:" in text and "Non-functional requirements:" in text
    assert "Open questions:" in text and "up-to-date" in text
    with pytest.raises(ValueError):
        Requirement("wish", "x", "y")


def test_direction_by_what_a_role_does():
    assert direction("finance team", uses_what_you_deliver=True) == "downstream"
    assert direction("payment provider", produces_data_you_ingest=True) == "upstream"
    both = direction("sales team", produces_data_you_ingest=True, uses_what_you_deliver=True)
    assert both == "upstream and downstream"
    neither = direction("astronaut", produces_data_you_ingest=False, uses_what_you_deliver=False)
    assert neither.startswith("not")
