import pytest

from utils.concepts.vpc import (
    PublicRangeWarning,
    Rule,
    check_vpc_cidr,
    is_allowed,
    overly_open_rules,
    split_vpc,
    subnet_of,
    usable_hosts,
)


def test_split_two_tiers_three_azs():
    subnets = split_vpc("10.0.0.0/16", ["a", "b", "c"])
    assert [s.cidr for s in subnets] == [
        "10.0.0.0/19",
        "10.0.32.0/19",
        "10.0.64.0/19",
        "10.0.96.0/19",
        "10.0.128.0/19",
        "10.0.160.0/19",
    ]
    assert subnets[0].name == "public-a" and subnets[3].name == "private-a"
    assert all(s.usable_hosts == 8192 - 5 for s in subnets)


def test_usable_hosts_reserves_five():
    assert usable_hosts("10.0.1.0/24") == 251


@pytest.mark.parametrize(
    ("cidr", "hint"),
    [
        ("10.0.0.1/16", "host bits"),
        ("10.0.0.0/8", "between /16 and /28"),
        ("127.0.0.0/16", "reserved"),
        ("169.254.0.0/16", "reserved"),
        ("banana", "not a network"),
    ],
)
def test_bad_vpc_ranges_are_explained(cidr, hint):
    with pytest.raises(ValueError, match=hint):
        split_vpc(cidr, ["a"])


def test_too_small_vpc_for_the_subnets():
    with pytest.raises(ValueError, match="too small"):
        split_vpc("10.0.0.0/27", ["a", "b", "c"])


def test_duplicate_azs_rejected():
    with pytest.raises(ValueError, match="once"):
        split_vpc("10.0.0.0/16", ["a", "a"])


def test_subnet_of():
    subnets = split_vpc("10.0.0.0/16", ["a", "b"])
    assert subnet_of("10.0.70.9", subnets).name == "public-b"
    assert subnet_of("10.0.200.9", subnets).name == "private-b"
    assert subnet_of("192.168.0.1", subnets) is None


def test_security_group_default_deny_and_allow():
    rules = [
        Rule("tcp", 443, 443, "0.0.0.0/0", "https from anywhere"),
        Rule("tcp", 3306, 3306, "10.0.0.0/16"),
    ]
    assert is_allowed(rules, "tcp", 443, "203.0.113.5") == (True, "allowed by rule: https from anywhere")
    assert is_allowed(rules, "tcp", 3306, "10.0.3.4")[0]
    allowed, reason = is_allowed(rules, "tcp", 3306, "203.0.113.5")
    assert not allowed and "deny what no rule allows" in reason
    assert not is_allowed(rules, "udp", 443, "203.0.113.5")[0]


def test_overly_open_rules_flags_ssh_to_world():
    rules = [Rule("tcp", 22, 22, "0.0.0.0/0"), Rule("tcp", 443, 443, "0.0.0.0/0")]
    assert overly_open_rules(rules) == [rules[0]]


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.31.0.0/16", "192.168.0.0/20", "100.64.0.0/16"])
def test_private_and_shared_ranges_pass_quietly(cidr, recwarn):
    check_vpc_cidr(cidr)
    assert not [w for w in recwarn if issubclass(w.category, PublicRangeWarning)]


def test_public_ranges_are_allowed_with_a_warning():
    with pytest.warns(PublicRangeWarning, match="publicly routable"):
        subnets = split_vpc("8.8.0.0/16", ["a"])
    assert subnets[0].cidr == "8.8.0.0/17"
