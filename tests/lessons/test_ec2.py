import pytest

from utils.concepts.ec2 import (
    InvalidInstanceType,
    describe_size,
    explain_or_error,
    is_valid_instance_type,
    parse_instance_type,
    size_rank,
)


def test_t3a_micro_parts():
    t = parse_instance_type("t3a.micro")
    assert (t.family, t.generation, t.capabilities, t.size, t.flex) == ("t", 3, "a", "micro", False)
    assert "burstable" in t.family_meaning
    assert t.capability_meanings == ["AMD processor"]


@pytest.mark.parametrize(
    ("name", "family", "caps"),
    [
        ("c7gn.2xlarge", "c", "gn"),
        ("inf2.xlarge", "inf", ""),
        ("im4gn.large", "im", "gn"),
        ("hpc7g.16xlarge", "hpc", "g"),
        ("h1.2xlarge", "h", ""),
        ("x2iedn.metal", "x", "iedn"),
        ("mac2.metal", "mac", ""),
        ("m7i.metal-24xl", "m", "i"),
    ],
)
def test_multi_letter_families_and_capabilities(name, family, caps):
    t = parse_instance_type(name)
    assert (t.family, t.capabilities) == (family, caps)


def test_flex_suffix():
    assert parse_instance_type("m7i-flex.large").flex


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("t3.huge", "not an EC2 size"),
        ("t.micro", "generation number"),
        ("3t.micro", "family letter"),
        ("t3micro", "no '.'"),
        ("T3.micro", "lower case"),
        ("q9.large", "not an EC2 family"),
        ("t0.micro", "start at 1"),
        ("t3k.micro", "unknown"),
        ("t3aa.micro", "repeats"),
        (" t3.micro", "spaces"),
        ("", "such as"),
    ],
)
def test_invalid_names_are_rejected_with_a_reason(name, hint):
    with pytest.raises(InvalidInstanceType, match=hint):
        parse_instance_type(name)
    assert not is_valid_instance_type(name)
    assert explain_or_error(name).startswith("Invalid:")


def test_explain_mentions_every_part():
    text = parse_instance_type("c7gn.2xlarge").explain()
    for word in ("compute optimized", "Graviton", "network", "2 x an xlarge"):
        assert word in text


def test_sizes_sort_sensibly():
    sizes = ["metal", "2xlarge", "micro", "xlarge", "nano", "large", "12xlarge"]
    assert sorted(sizes, key=size_rank) == [
        "nano",
        "micro",
        "large",
        "xlarge",
        "2xlarge",
        "12xlarge",
        "metal",
    ]
    assert "8 vCPUs" in describe_size("2xlarge")


@pytest.mark.parametrize(
    "name",
    [
        "u-6tb1.112xlarge",
        "u-3tb1.56xlarge",
        "u7i-12tb.224xlarge",
        "u7inh-32tb.480xlarge",
        "mac2-m2pro.metal",
        "mac2-m2.metal",
        "gr6.4xlarge",
        "c7i-flex.2xlarge",
        "r8i-flex.xlarge",
        "i3en.3xlarge",
        "c5.9xlarge",
        "t4g.2xlarge",
    ],
)
def test_real_types_are_accepted(name):
    assert is_valid_instance_type(name), explain_or_error(name)


def test_special_shapes_are_read():
    high_memory = parse_instance_type("u7i-12tb.224xlarge")
    assert (high_memory.family, high_memory.generation, high_memory.memory_tb) == ("u", 7, 12)
    assert parse_instance_type("u-6tb1.112xlarge").memory_tb == 6
    assert parse_instance_type("mac2-m2pro.metal").chip == "m2pro"
    assert parse_instance_type("gr6.4xlarge").family == "gr"


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("t3.56xlarge", "burstable"),
        ("t3a.99xlarge", "not an EC2 size"),
        ("m5.1xlarge", "written 'xlarge'"),
        ("t3.metal", "no metal"),
        ("t3-flex.large", "-flex exists only"),
        ("m5-flex.large", "-flex exists only"),
        ("m7i-flex.metal", "no flex metal"),
        ("m99.large", "generation 8"),
        ("mac2.large", "always 'metal'"),
        ("mac2-m9.metal", "chip variants"),
        ("u-6tb1.large", "very large sizes"),
        ("m7i.metal-20xl", "metal slices"),
    ],
)
def test_fake_types_are_rejected(name, hint):
    with pytest.raises(InvalidInstanceType, match=hint):
        parse_instance_type(name)


def test_explanation_does_not_overclaim_availability():
    assert "check the AWS instance-type list" in parse_instance_type("m5d.4xlarge").explain()
    assert "check the AWS" not in parse_instance_type("t3.micro").explain()
