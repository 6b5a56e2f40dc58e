import pytest

from utils.concepts.regions import (
    REGIONS,
    UserGroup,
    az_names,
    estimated_rtt_ms,
    explain_region_code,
    great_circle_km,
    parse_az,
    pick_region,
    region,
)


def test_table_codes_are_unique_and_valid():
    codes = [r.code for r in REGIONS]
    assert len(codes) == len(set(codes))
    for code in codes:
        explain_region_code(code)  # raises if malformed


def test_region_code_explained():
    assert explain_region_code("us-east-1") == "us-east-1: the first region in the east of the United States"
    assert explain_region_code("il-central-1") == "il-central-1: the first region in the centre of Israel"
    assert "fifth region in the south-east of" in explain_region_code("ap-southeast-5")
    assert "region number 12" in explain_region_code("eu-west-12")
    assert "GovCloud" in explain_region_code("us-gov-west-1")
    with pytest.raises(ValueError, match="not a region code"):
        explain_region_code("useast1")


def test_az_names_and_parsing():
    assert az_names("us-east-1", 2) == ["us-east-1a", "us-east-1b"]
    assert parse_az("eu-west-3c") == ("eu-west-3", "c")
    assert parse_az("us-east-1f") == ("us-east-1", "f")
    for bad in ("us-east-1", "us-east-1ab", "east-1a", "us-east-1g", "eu-west-3z"):
        with pytest.raises(ValueError):
            parse_az(bad)
    with pytest.raises(ValueError):
        az_names("us-east-1", 9)


def test_great_circle_new_york_london():
    assert 5500 < great_circle_km(40.71, -74.0, 51.51, -0.13) < 5650
    assert great_circle_km(10, 10, 10, 10) == 0
    assert estimated_rtt_ms(100) == pytest.approx(1.4)


def test_nearest_region_wins_when_latency_dominates():
    tokyo_users = [UserGroup("Tokyo", 35.68, 139.69)]
    assert pick_region(tokyo_users, latency_weight=1, cost_weight=0)[0].code == "ap-northeast-1"


def test_cost_weight_moves_choice_to_cheaper_region():
    paris = [UserGroup("Paris", 48.86, 2.35)]
    assert pick_region(paris, latency_weight=1, cost_weight=0, eu_only=True)[0].code == "eu-west-3"
    assert pick_region(paris, latency_weight=0, cost_weight=1, eu_only=True)[0].code == "eu-north-1"


def test_compliance_and_availability_filters():
    users = [UserGroup("NYC", 40.71, -74.0)]
    ranked = pick_region(users, allowed_countries={"DE", "FR"})
    assert {s.code for s in ranked} == {"eu-central-1", "eu-west-3"}
    only = pick_region(users, available_in={"us-west-2"})
    assert [s.code for s in only] == ["us-west-2"]
    with pytest.raises(ValueError, match="No region"):
        pick_region(users, allowed_countries={"XX"})
    with pytest.raises(ValueError):
        pick_region([])


def test_opt_in_regions_excluded_by_default():
    users = [UserGroup("Cape Town", -33.92, 18.42)]
    assert "af-south-1" not in {s.code for s in pick_region(users)}
    assert pick_region(users, include_opt_in=True, latency_weight=1, cost_weight=0)[0].code == "af-south-1"


def test_unknown_region_lookup():
    assert region("eu-west-1").city == "Ireland"
    with pytest.raises(KeyError, match="Unknown region"):
        region("mars-1")


EUROPE = [
    UserGroup("Paris", 48.86, 2.35, weight=3),
    UserGroup("Berlin", 52.52, 13.40, weight=2),
    UserGroup("Madrid", 40.42, -3.70, weight=1),
]


@pytest.mark.parametrize("latency_weight", [0.0, 0.1, 0.3, 0.5, 0.7, 0.95, 1.0])
def test_filtering_never_reorders_the_remaining_regions(latency_weight):
    weights = {"latency_weight": latency_weight, "cost_weight": 1 - latency_weight}
    full = [s.code for s in pick_region(EUROPE, **weights)]
    for filters in ({"eu_only": True}, {"allowed_countries": {"FR", "SE", "DE", "IE"}}):
        kept = [s.code for s in pick_region(EUROPE, **weights, **filters)]
        assert kept == [code for code in full if code in set(kept)]
    # Dropping the regions that lose, one at a time from the bottom, never changes the order.
    for n in range(1, len(full)):
        survivors = set(full[:n])
        kept = [s.code for s in pick_region(EUROPE, **weights, available_in=survivors)]
        assert kept == full[:n]


def test_default_weights_pick_paris_with_or_without_eu_only():
    assert pick_region(EUROPE)[0].code == "eu-west-3"
    assert pick_region(EUROPE, eu_only=True)[0].code == "eu-west-3"
