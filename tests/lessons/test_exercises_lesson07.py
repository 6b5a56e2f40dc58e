"""Lesson 07's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

import ipaddress
import re

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts import ec2, vpc
from utils.teaching.exercises.lesson07 import (
    grade_parse_instance_name,
    grade_placements,
    grade_plan_subnets,
    grade_s3_objects,
)

# --- exercise 1: parse_instance_name ---------------------------------------------------------

NAME_RE = re.compile(r"([a-z]+)(\d+)([a-z]*)\.([a-z0-9-]+)")


def parse_instance_name(name):
    match = NAME_RE.fullmatch(name)
    if match is None:
        return None
    family, generation, capabilities, size = match.groups()
    generation = int(generation)
    if family not in ec2.FAMILIES or not 1 <= generation <= ec2.NEWEST_GENERATION[family]:
        return None
    if any(c not in ec2.CAPABILITIES for c in capabilities) or len(set(capabilities)) != len(capabilities):
        return None
    if not ec2.is_valid_size(size) or (family == "t" and size not in ec2.BURSTABLE_SIZES):
        return None
    return family, generation, capabilities, size


def parse_instance_name_by_hand(name):
    """No regex: split on the dot, walk the letters and digits."""
    if name.count(".") != 1:
        return None
    prefix, size = name.split(".")
    i = 0
    while i < len(prefix) and prefix[i].islower():
        i += 1
    j = i
    while j < len(prefix) and prefix[j].isdigit():
        j += 1
    family, digits, capabilities = prefix[:i], prefix[i:j], prefix[j:]
    ok = (family in ec2.FAMILIES and digits and digits[0] != "0"
          and int(digits) <= ec2.NEWEST_GENERATION.get(family, 0)
          and set(capabilities) <= set(ec2.CAPABILITIES) and len(set(capabilities)) == len(capabilities)
          and ec2.is_valid_size(size) and (family != "t" or size in ec2.BURSTABLE_SIZES))
    return [family, int(digits), capabilities, size] if ok else None  # a list is accepted too


def parse_lowercasing(name):
    return parse_instance_name(name.lower())


def parse_without_generation_limits(name):
    match = NAME_RE.fullmatch(name)
    if match is None or match.group(1) not in ec2.FAMILIES or int(match.group(2)) < 1:
        return None
    caps = match.group(3)
    if set(caps) - set(ec2.CAPABILITIES) or len(set(caps)) != len(caps):
        return None
    if not ec2.is_valid_size(match.group(4)):
        return None
    if match.group(1) == "t" and match.group(4) not in ec2.BURSTABLE_SIZES:
        return None
    return match.group(1), int(match.group(2)), caps, match.group(4)


def parse_without_burstable_sizes(name):
    match = NAME_RE.fullmatch(name)
    if match is None:
        return None
    parts = parse_instance_name(name.replace("t3.metal", "t3.large").replace("t3.8xlarge", "t3.large"))
    return None if parts is None else (parts[0], parts[1], parts[2], match.group(4))


def parse_with_text_generation(name):
    parts = parse_instance_name(name)
    return None if parts is None else (parts[0], str(parts[1]), parts[2], parts[3])


def parse_raising(name):
    family, rest = re.match(r"([a-z]+)(.*)", name).groups()  # AttributeError on ""
    return parse_instance_name(name)


def test_parse_instance_name():
    assert_grader_proven(
        grade_parse_instance_name,
        solution=parse_instance_name,
        mistakes=[
            (parse_lowercasing, "lower case"),
            (parse_without_generation_limits, "has not reached generation"),
            (parse_without_burstable_sizes, "burstable (t) types"),
            (parse_with_text_generation, "convert it with int()"),
            (parse_raising, "return None instead of failing"),
        ],
        equivalents=[parse_instance_name_by_hand],
    )


# --- exercise 2: plan_subnets ------------------------------------------------------------------


def plan_subnets(vpc_cidr, azs):
    network = ipaddress.ip_network(vpc_cidr)
    names = [f"{tier}-{az}" for tier in ("public", "private") for az in azs]
    extra_bits = (len(names) - 1).bit_length()
    blocks = network.subnets(prefixlen_diff=extra_bits)
    return {name: (str(block), block.num_addresses - 5) for name, block in zip(names, blocks, strict=False)}


def plan_subnets_zone_by_zone(vpc_cidr, azs):
    """Another order (public and private of a zone side by side): equally right."""
    import math

    network = ipaddress.ip_network(vpc_cidr)
    new_prefix = network.prefixlen + math.ceil(math.log2(2 * len(azs)))
    blocks = list(network.subnets(new_prefix=new_prefix))
    plan = {}
    for i, az in enumerate(azs):
        for j, tier in enumerate(("public", "private")):
            block = blocks[2 * i + j]
            plan[f"{tier}-{az}"] = [str(block), block.num_addresses - 5]
    return plan


def plan_subnets_of_24(vpc_cidr, azs):
    network = ipaddress.ip_network(vpc_cidr)
    blocks = network.subnets(new_prefix=min(network.prefixlen + 8, 28))
    names = [f"{tier}-{az}" for tier in ("public", "private") for az in azs]
    return {name: (str(block), block.num_addresses - 5) for name, block in zip(names, blocks, strict=False)}


def plan_subnets_classic_count(vpc_cidr, azs):
    return {name: (cidr, usable + 3) for name, (cidr, usable) in plan_subnets(vpc_cidr, azs).items()}


def plan_subnets_sharing_blocks(vpc_cidr, azs):
    network = ipaddress.ip_network(vpc_cidr)
    blocks = list(network.subnets(prefixlen_diff=(2 * len(azs) - 1).bit_length()))
    plan = {}
    for i, az in enumerate(azs):  # public and private of a zone get the same block
        plan[f"public-{az}"] = plan[f"private-{az}"] = (str(blocks[i]), blocks[i].num_addresses - 5)
    return plan


def plan_subnets_one_bit_per_subnet_count(vpc_cidr, azs):
    network = ipaddress.ip_network(vpc_cidr)
    names = [f"{tier}-{az}" for tier in ("public", "private") for az in azs]
    blocks = network.subnets(prefixlen_diff=len(names) // 2 + 1)  # too many bits for 4 or 6 subnets
    return {name: (str(block), block.num_addresses - 5) for name, block in zip(names, blocks, strict=False)}


def plan_subnets_public_only(vpc_cidr, azs):
    return {k: v for k, v in plan_subnets(vpc_cidr, azs).items() if k.startswith("public")}


def test_plan_subnets():
    assert_grader_proven(
        grade_plan_subnets,
        solution=plan_subnets,
        mistakes=[
            (plan_subnets_of_24, "leave most of the vpc unused"),
            (plan_subnets_classic_count, "aws reserves 5 addresses"),
            (plan_subnets_sharing_blocks, "overlaps"),
            (plan_subnets_one_bit_per_subnet_count, "extra bits"),
            (plan_subnets_public_only, "missing ['private-us-east-1a'"),
        ],
        equivalents=[plan_subnets_zone_by_zone],
    )


def test_the_reference_plan_matches_split_vpc():
    zones = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
    expected = {s.name: (s.cidr, s.usable_hosts) for s in vpc.split_vpc("10.0.0.0/16", zones)}
    assert plan_subnets("10.0.0.0/16", zones) == expected


# --- exercise 3: upload_and_list / delete_prefix (real S3 on an in-process local cloud) ---------


def upload_and_list(s3, bucket, prefix, files):
    for name, body in files.items():
        s3.put_object(Bucket=bucket, Key=prefix + name, Body=body)
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def delete_prefix(s3, bucket, prefix):
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    for key in keys:
        s3.delete_object(Bucket=bucket, Key=key)
    return len(keys)


def upload_and_list_with_a_resource(s3, bucket, prefix, files):
    import boto3

    bucket_resource = boto3.resource("s3").Bucket(bucket)
    for name, body in files.items():
        bucket_resource.put_object(Key=f"{prefix}{name}", Body=body)
    return sorted(o.key for o in bucket_resource.objects.filter(Prefix=prefix))


def delete_prefix_in_one_call(s3, bucket, prefix):
    keys = upload_and_list(s3, bucket, prefix, {})
    if keys:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    return len(keys)


def upload_without_the_prefix(s3, bucket, prefix, files):
    for name, body in files.items():
        s3.put_object(Bucket=bucket, Key=name, Body=body)
    return upload_and_list(s3, bucket, prefix, {})


def upload_listing_without_the_slash(s3, bucket, prefix, files):
    upload_and_list(s3, bucket, prefix, files)
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix.rstrip("/"))["Contents"])


def upload_returning_what_was_written(s3, bucket, prefix, files):
    for name, body in files.items():
        s3.put_object(Bucket=bucket, Key=prefix + name, Body=body)
    return sorted(prefix + name for name in files)


def delete_the_whole_bucket_content(s3, bucket, prefix):
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    for key in keys:
        s3.delete_object(Bucket=bucket, Key=key)
    return len([k for k in keys if k.startswith(prefix)])


def delete_counting_only(s3, bucket, prefix):
    return len(s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


def test_s3_objects(local_cloud):
    assert_grader_proven(
        grade_s3_objects,
        solution=(upload_and_list, delete_prefix),
        mistakes=[
            ((upload_without_the_prefix, delete_prefix), "put each file at the key prefix + name"),
            ((upload_listing_without_the_slash, delete_prefix), "keep the final '/'"),
            ((upload_returning_what_was_written, delete_prefix), "return what list_objects_v2 lists"),
            ((upload_and_list, delete_the_whole_bucket_content), "outside 'lessons/07/exercise/'"),
            ((upload_and_list, delete_counting_only), "still holds"),
        ],
        equivalents=[(upload_and_list_with_a_resource, delete_prefix_in_one_call)],
    )


def test_the_s3_grader_leaves_no_bucket_behind(local_cloud):
    import boto3

    s3 = boto3.client("s3")
    before = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert grade_s3_objects(upload_and_list, delete_prefix).passed
    assert grade_s3_objects(upload_and_list, delete_counting_only).passed is False
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == before


# --- exercise 4: placements --------------------------------------------------------------------

PLACEMENTS = {
    "thumbnails": "Lambda", "nightly_etl": "Fargate", "legacy_scanner": "EC2", "shop_orders": "RDS",
    "sales_history": "Redshift", "lake_files": "S3", "mysql_disk": "EBS", "team_home": "EFS",
}  # fmt: skip


def test_placements():
    lower_case = {k: v.lower() for k, v in PLACEMENTS.items()}
    assert_grader_proven(
        grade_placements,
        solution=PLACEMENTS,
        mistakes=[
            ({**PLACEMENTS, "nightly_etl": "Lambda"}, "stops any run after 15 minutes"),
            ({**PLACEMENTS, "sales_history": "RDS"}, "warehouse's job"),
            ({**PLACEMENTS, "team_home": "S3"}, "nor a shared folder to mount"),
            ({**PLACEMENTS, "legacy_scanner": "Fargate"}, "no kernel modules"),
            ({**PLACEMENTS, "mysql_disk": "S3"}, "neither a disk"),
            ({**PLACEMENTS, "thumbnails": "S3"}, "not a compute service"),
            ({k: v for k, v in PLACEMENTS.items() if k != "team_home"}, "no answer for ['team_home']"),
        ],
        equivalents=[lower_case],
    )


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def parse_returning_a_named_tuple(name):
    from collections import namedtuple

    parts = parse_instance_name(name)
    return None if parts is None else namedtuple("Parts", "family generation capabilities size")(*parts)


def parse_with_none_for_no_capabilities(name):
    parts = parse_instance_name(name)
    return parts if parts is None or parts[2] else (parts[0], parts[1], None, parts[3])


def parse_with_a_list_of_capabilities(name):
    parts = parse_instance_name(name)
    return None if parts is None else (parts[0], parts[1], list(parts[2]), parts[3])


def parse_stripping_spaces(name):
    return parse_instance_name(name.strip())


def test_parse_instance_name_review():
    assert_grader_proven(
        grade_parse_instance_name,
        solution=parse_instance_name,
        mistakes=[
            (parse_with_none_for_no_capabilities, "capabilities '' (an empty string)"),
            (parse_with_a_list_of_capabilities, "as one string of letters"),
            (parse_stripping_spaces, "there is a space after the name"),
        ],
        equivalents=[parse_returning_a_named_tuple, parse_instance_name_by_hand],
    )


def plan_subnets_interleaved_with_networks(vpc_cidr, azs):
    import math

    network = ipaddress.ip_network(vpc_cidr)
    blocks = list(network.subnets(new_prefix=network.prefixlen + math.ceil(math.log2(2 * len(azs)))))
    plan = {}
    for i, az in enumerate(azs):  # public, private, public, private...: any distinct blocks will do
        plan[f"public-{az}"] = [blocks[2 * i], blocks[2 * i].num_addresses - 5]
        plan[f"private-{az}"] = [blocks[2 * i + 1], blocks[2 * i + 1].num_addresses - 5]
    return plan


def plan_subnets_sized_for_the_zones(vpc_cidr, azs):
    names = [f"{tier}-{az}" for tier in ("public", "private") for az in azs]
    blocks = ipaddress.ip_network(vpc_cidr).subnets(prefixlen_diff=(len(azs) - 1).bit_length())
    return {name: (str(b), b.num_addresses - 5) for name, b in zip(names, blocks, strict=False)}


def plan_subnets_of_fixed_19(vpc_cidr, azs):
    names = [f"{tier}-{az}" for tier in ("public", "private") for az in azs]
    blocks = ipaddress.ip_network(vpc_cidr).subnets(new_prefix=19)
    return {name: (str(b), b.num_addresses - 5) for name, b in zip(names, blocks, strict=False)}


def test_plan_subnets_review():
    assert_grader_proven(
        grade_plan_subnets,
        solution=plan_subnets,
        mistakes=[
            (plan_subnets_sized_for_the_zones, "each zone has two (public and private)"),
            (plan_subnets_of_fixed_19, "not a fixed /19"),
        ],
        equivalents=[plan_subnets_interleaved_with_networks],
    )


def upload_and_list_unsorted(s3, bucket, prefix, files):
    return upload_and_list(s3, bucket, prefix, files)[::-1]


def upload_and_list_names_only(s3, bucket, prefix, files):
    return [key[len(prefix):] for key in upload_and_list(s3, bucket, prefix, files)]


def delete_prefix_trusting_contents(s3, bucket, prefix):
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    for key in keys:
        s3.delete_object(Bucket=bucket, Key=key)
    return len(keys)


def upload_and_list_with_a_paginator(s3, bucket, prefix, files):
    for name, body in sorted(files.items()):
        s3.put_object(Bucket=bucket, Key=f"{prefix}{name}", Body=body)
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return tuple(sorted(keys))


def delete_prefix_until_empty(s3, bucket, prefix):
    deleted = 0
    while contents := s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents"):
        for item in contents:
            s3.delete_object(Bucket=bucket, Key=item["Key"])
            deleted += 1
    return deleted


def test_s3_objects_review(local_cloud):
    assert_grader_proven(
        grade_s3_objects,
        solution=(upload_and_list, delete_prefix),
        mistakes=[
            ((upload_and_list_unsorted, delete_prefix), "not in sorted order"),
            ((upload_and_list_names_only, delete_prefix), "names without the prefix"),
            ((upload_and_list, delete_prefix_trusting_contents), "has no 'Contents' when nothing matches"),
        ],
        equivalents=[(upload_and_list_with_a_paginator, delete_prefix_until_empty)],
    )


def test_placements_review():
    assert_grader_proven(
        grade_placements,
        solution=PLACEMENTS,
        mistakes=[
            ({**PLACEMENTS, "nightly_etl": "ECS"}, "not one of the services of this exercise"),
            ({**PLACEMENTS, "shop_orders": "Redshift"}, "need a transactional database"),
        ],
        equivalents=[{k: f" {v.upper()} " for k, v in PLACEMENTS.items()}],
    )
