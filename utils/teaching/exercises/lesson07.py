"""Graders of lesson 07 (``07_compute_networking_and_storage_on_aws``).

1. ``parse_instance_name``: the core of :func:`utils.concepts.ec2.parse_instance_type`,
   compared with it on valid and invalid names;
2. ``plan_subnets``: a VPC split into per-zone subnets with :mod:`ipaddress`, checked
   against :func:`utils.concepts.vpc.split_vpc` (any non-overlapping assignment of blocks of
   the right size is accepted);
3. ``upload_and_list`` / ``delete_prefix``: real boto3 calls against S3 (the local cloud,
   or AWS), graded by the bucket's real state in a bucket the grader creates for the run
   and removes afterwards;
4. ``placements``: a decision exercise (Lambda, Fargate or EC2; RDS or Redshift; S3, EBS
   or EFS) graded with the rules of :mod:`utils.concepts.compute`.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from utils.concepts import compute, ec2, vpc
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: parse an instance-type name --------------------------------------------------

VALID_NAMES = (
    "t3a.micro", "m7g.2xlarge", "c7gn.2xlarge", "r6id.large", "inf2.8xlarge", "trn1.32xlarge",
    "im4gn.large", "is4gen.xlarge", "hpc7g.16xlarge", "m5.metal", "i4i.metal-24xl", "x2iedn.32xlarge",
    "t4g.nano", "p5.48xlarge", "z1d.large", "gr6.4xlarge", "c5.xlarge", "t2.2xlarge",
)  # fmt: skip
INVALID_NAMES: tuple[tuple[str, str], ...] = (
    ("T3.micro", "instance types are lower case: AWS rejects 'T3.micro' (do not lower-case the input)"),
    ("t3micro", "there is no '.' between the prefix and the size"),
    ("t3.huge", "'huge' is not an EC2 size"),
    ("m5.1xlarge", "one xlarge is written 'xlarge', never '1xlarge'"),
    ("t0.nano", "generations start at 1"),
    ("t9.micro", "the t family has not reached generation 9 (see ec2.NEWEST_GENERATION)"),
    ("m99.large", "the m family has not reached generation 99 (see ec2.NEWEST_GENERATION)"),
    ("q9.large", "'q' is not an EC2 family (see ec2.FAMILIES)"),
    ("m.large", "there is no generation number after the family"),
    ("m5k.large", "'k' is not a capability letter (see ec2.CAPABILITIES)"),
    ("m5dd.large", "a capability letter is repeated"),
    ("t3.metal", "burstable (t) types have no metal size (see ec2.BURSTABLE_SIZES)"),
    ("t3.8xlarge", "burstable (t) types stop at 2xlarge (see ec2.BURSTABLE_SIZES)"),
    ("c7gn.2xlarge ", "there is a space after the name"),
    ("m5.large.x", "'large.x' is not a size: a name has exactly one '.'"),
    ("", "an empty string is not a name"),
)
"""Names AWS would refuse, and why (quoted in the feedback)."""


def _reference_parts(name: str) -> tuple[str, int, str, str] | None:
    try:
        parsed = ec2.parse_instance_type(name)
    except ec2.InvalidInstanceType:
        return None
    return parsed.family, parsed.generation, parsed.capabilities, parsed.size


@grader("l07_ex1_parse_instance_name", max_score=1)
def grade_parse_instance_name(parse_instance_name: Callable[[str], tuple[str, int, str, str] | None]) -> str:
    """``parse_instance_name(name)`` must agree with :func:`ec2.parse_instance_type`."""
    assert callable(parse_instance_name), (
        "parse_instance_name should be a function (def parse_instance_name(name): ...), "
        f"not {type(parse_instance_name).__name__}."
    )
    for name in VALID_NAMES:
        expected = _reference_parts(name)
        try:
            got = parse_instance_name(name)
        except Exception as error:
            raise AssertionError(
                f"parse_instance_name({name!r}) raised {type(error).__name__}: {error}; it is a valid name, "
                f"expected {expected!r}."
            ) from None
        assert got is not None, (
            f"parse_instance_name({name!r}) returned None, but it is valid: expected {expected!r}."
        )
        got = tuple(got) if isinstance(got, list) else got
        assert isinstance(got, tuple) and len(got) == 4, (
            f"parse_instance_name({name!r}) returned {got!r}; return a tuple (family, generation, "
            f"capabilities, size) such as {expected!r}."
        )
        if expected[2] == "" and got[2] is None:
            raise AssertionError(
                f"parse_instance_name({name!r}) returned capabilities None: a name without capability "
                "letters has capabilities '' (an empty string), as the regular expression's ([a-z]*) gives."
            )
        if isinstance(got[2], list | tuple | set):
            raise AssertionError(
                f"parse_instance_name({name!r}) returned capabilities {got[2]!r}: return them as one string "
                f"of letters, such as {expected[2]!r}."
            )
        if isinstance(got[1], str) and got[1].isdigit():
            raise AssertionError(
                f"parse_instance_name({name!r}) returned the generation as the text {got[1]!r}: convert it "
                "with "
                "int() so generations can be compared (see ec2.NEWEST_GENERATION)."
            )
        assert got == expected, f"parse_instance_name({name!r}) returned {got!r}, expected {expected!r}."
    for name, why in INVALID_NAMES:
        try:
            got = parse_instance_name(name)
        except Exception as error:
            raise AssertionError(
                f"parse_instance_name({name!r}) raised {type(error).__name__}: {error}. It is invalid "
                f"({why}), "
                "so return None instead of failing."
            ) from None
        assert got is None, f"parse_instance_name({name!r}) returned {got!r}, expected None: {why}."
    return (
        f"parse_instance_name reads all {len(VALID_NAMES)} valid names like the lesson's parser and refuses "
        f"all {len(INVALID_NAMES)} invalid ones."
    )


# --- exercise 2: subnets for four zones ---------------------------------------------------------

SUBNET_CASES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("the lesson's VPC in 4 zones", "10.0.0.0/16", ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d")),
    ("a /20 VPC in 3 zones", "172.16.0.0/20", ("eu-west-1a", "eu-west-1b", "eu-west-1c")),
    ("a /24 VPC in 2 zones", "192.168.8.0/24", ("ap-south-1a", "ap-south-1b")),
)


def _prefixlen(value: Any) -> int | None:
    """The prefix length of the cidr in a learner's ``(cidr, usable_hosts)`` pair, or None."""
    try:
        return ipaddress.ip_network(value[0]).prefixlen
    except (TypeError, ValueError, IndexError, KeyError):
        return None


def _check_plan(label: str, vpc_cidr: str, azs: tuple[str, ...], got: Any) -> None:
    reference = vpc.split_vpc(vpc_cidr, list(azs))
    expected_names = {s.name for s in reference}
    prefix = ipaddress.ip_network(reference[0].cidr).prefixlen
    assert isinstance(got, Mapping), (
        f"plan_subnets should return a dict such as {{'public-{azs[0]}': ('{reference[0].cidr}', "
        f"{reference[0].usable_hosts}), ...}}, not a {type(got).__name__}."
    )
    missing, extra = sorted(expected_names - set(got)), sorted(set(got) - expected_names)
    if (missing and not extra and len(got) <= len(azs) and len({name.split("-")[0] for name in missing}) == 1
            and all((_prefixlen(value) or 128) < prefix for value in got.values())):  # sized for one tier
        raise AssertionError(
            f"On {label} every {missing[0].split('-')[0]}-<zone> subnet is missing: zip() stopped when the "
            f"blocks ran out. You split the VPC for {len(azs)} subnets, but each zone has two (public and "
            f"private): {2 * len(azs)} subnets need {prefix - ipaddress.ip_network(vpc_cidr).prefixlen} "
            "extra bits."
        )
    assert not missing and not extra, (
        f"On {label} the subnet names should be public-<zone> and private-<zone> for each zone: "
        f"missing {missing or 'none'}, unexpected {extra or 'none'}."
    )
    network = ipaddress.ip_network(vpc_cidr)
    blocks = {}
    for name, value in got.items():
        assert isinstance(value, tuple | list) and len(value) == 2, (
            f"On {label} {name} should map to a pair (cidr, usable_hosts), not {value!r}."
        )
        cidr, usable = value
        try:
            block = ipaddress.ip_network(cidr)
        except ValueError:
            raise AssertionError(
                f"On {label} {name} is {cidr!r}, which is not a network address (its host bits are not "
                "zero): take the blocks from ipaddress.ip_network(vpc_cidr).subnets(new_prefix=...)."
            ) from None
        assert block.subnet_of(network), f"On {label} {name} = {cidr} is not inside the VPC {vpc_cidr}."
        assert block.prefixlen >= prefix, (
            f"On {label} {name} is a /{block.prefixlen}; {len(expected_names)} equal subnets of a "
            f"/{network.prefixlen} can only be /{prefix} (you need {prefix - network.prefixlen} extra bits)."
        )
        assert block.prefixlen == prefix, (
            f"On {label} your subnets are /{block.prefixlen}, expected /{prefix}: {len(expected_names)} "
            "subnets "
            f"need only {prefix - network.prefixlen} extra bits (the smallest power of two >= "
            f"{len(expected_names)} is {2 ** (prefix - network.prefixlen)}); longer prefixes leave most of "
            "the VPC unused."
        )
        if usable == block.num_addresses - 2:
            raise AssertionError(
                f"On {label} {name} has {usable} usable addresses: that is the classic count (minus network "
                "and "
                f"broadcast). AWS reserves 5 addresses in every subnet, so a /{prefix} has "
                f"{block.num_addresses - vpc.AWS_RESERVED_PER_SUBNET}."
            )
        assert usable == block.num_addresses - vpc.AWS_RESERVED_PER_SUBNET, (
            f"On {label} {name} = {cidr} has {usable!r} usable addresses, expected "
            f"{block.num_addresses - vpc.AWS_RESERVED_PER_SUBNET} (its size minus the 5 AWS reserves)."
        )
        for other, other_block in blocks.items():
            assert not block.overlaps(other_block), (
                f"On {label} {name} ({cidr}) overlaps {other} ({other_block}): each subnet needs its own "
                "block."
            )
        blocks[name] = block


@grader("l07_ex2_plan_subnets", max_score=1)
def grade_plan_subnets(plan_subnets: Callable[[str, list[str]], dict[str, tuple[str, int]]]) -> str:
    """``plan_subnets(vpc_cidr, azs)``: each tier/zone its own block, as :func:`vpc.split_vpc` gives."""
    assert callable(plan_subnets), (
        "plan_subnets should be a function (def plan_subnets(vpc_cidr, azs): ...), not "
        f"{type(plan_subnets).__name__}."
    )
    for label, vpc_cidr, azs in SUBNET_CASES:
        try:
            got = plan_subnets(vpc_cidr, list(azs))
        except ValueError as error:
            if "prefix" not in str(error):
                raise
            raise AssertionError(
                f"On {label} plan_subnets({vpc_cidr!r}, ...) raised ValueError: {error}. Work the subnets' "
                "prefix out from the VPC you are given (its prefixlen + the extra bits, or "
                "subnets(prefixlen_diff=k)), not a fixed /19: this VPC is not a /16."
            ) from None
        _check_plan(label, vpc_cidr, azs, got)
    return (
        "plan_subnets splits every test VPC into equal, non-overlapping public and private subnets per zone, "
        "as large as they can be, with AWS's 5 reserved addresses taken off."
    )


# --- exercise 3: objects in S3 -------------------------------------------------------------------

S3_PREFIX = "lessons/07/exercise/"
S3_FILES = {
    "raw/orders/2024-01-01.csv": b"orderNumber,status\n10100,Shipped\n10101,Shipped\n",
    "raw/orders/2024-01-02.csv": b"orderNumber,status\n10102,On Hold\n",
    "raw/customers.json": b'[{"customerNumber": 103}]',
}
DECOYS = {
    "lessons/07/keep-me.txt": b"outside the prefix",
    "lessons/07/exercise-notes.txt": b"shares the start of the prefix",
}
LEFTOVER = "lessons/07/exercise/leftover-from-a-crashed-run.csv"


def _s3_client() -> Any:
    import boto3

    return boto3.client("s3")  # the target's endpoint comes from the environment (AWS_ENDPOINT_URL)


def _keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return sorted(keys)


def _remove_bucket(s3: Any, bucket: str) -> None:
    for key in _keys(s3, bucket):
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)


@grader("l07_ex3_s3_objects", max_score=1)
def grade_s3_objects(upload_and_list: Callable[..., list[str]], delete_prefix: Callable[..., int]) -> str:
    """Run the learner's boto3 functions on a fresh bucket and check what S3 really holds."""
    assert callable(upload_and_list) and callable(delete_prefix), (
        "upload_and_list and delete_prefix should both be functions (def upload_and_list(s3, bucket, prefix, "
        "files): ... and def delete_prefix(s3, bucket, prefix): ...)."
    )
    s3 = _s3_client()
    bucket = f"delab-lesson07-grader-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    try:
        for key, body in DECOYS.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        s3.put_object(Bucket=bucket, Key=LEFTOVER, Body=b"old")
        _check_upload(s3, bucket, upload_and_list)
        _check_upload(s3, bucket, upload_and_list)  # a second run must leave the same state
        before = _keys(s3, bucket, S3_PREFIX)
        count = delete_prefix(s3, bucket, S3_PREFIX)
        left = _keys(s3, bucket, S3_PREFIX)
        gone = sorted(set(DECOYS) - set(_keys(s3, bucket)))
        assert not gone, (
            f"delete_prefix removed {gone}, which are outside {S3_PREFIX!r}: list with Prefix=prefix and "
            "delete only the keys that listing returns."
        )
        assert not left, (
            f"After delete_prefix the bucket still holds {left}: delete every key the listing returned "
            "(s3.delete_object(Bucket=..., Key=...) for each, or one s3.delete_objects call)."
        )
        assert count == len(before), (
            f"delete_prefix returned {count!r}, but it deleted {len(before)} objects: return how many keys "
            "you deleted."
        )
        try:
            again = delete_prefix(s3, bucket, S3_PREFIX)
        except KeyError as error:
            raise AssertionError(
                f"Run a second time, on a prefix that is now empty, delete_prefix raised KeyError {error}: "
                "list_objects_v2's answer has no 'Contents' when nothing matches. Use "
                ".get('Contents', []) so running it twice is harmless."
            ) from None
        assert again == 0, (
            f"Run a second time, on a prefix that is now empty, delete_prefix returned {again!r}: it deleted "
            "nothing, so it should return 0."
        )
    finally:
        _remove_bucket(s3, bucket)
    return (
        "Your boto3 calls put the files under the prefix, listed exactly what S3 holds there (twice, with "
        "the "
        f"same result), and deleted those {len(before)} objects and nothing else."
    )


def _check_upload(s3: Any, bucket: str, upload_and_list: Callable[..., list[str]]) -> None:
    listed = upload_and_list(s3, bucket, S3_PREFIX, dict(S3_FILES))
    for name, body in S3_FILES.items():
        key = S3_PREFIX + name
        if key not in _keys(s3, bucket, key):
            stray = [k for k in _keys(s3, bucket) if k.endswith(name) and k != key]
            hint = f" It is at {stray[0]!r}: put each file at the key prefix + name." if stray else ""
            raise AssertionError(f"{key!r} is not in the bucket after upload_and_list.{hint}")
        stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert stored == body, f"{key!r} holds {stored[:40]!r}..., not the file's bytes {body[:40]!r}..."
    real = _keys(s3, bucket, S3_PREFIX)
    assert isinstance(listed, list | tuple), (
        f"upload_and_list should return the list of keys under the prefix, not {type(listed).__name__}."
    )
    listed = list(listed)
    outside = sorted(set(listed) - set(real))
    if outside and set(outside) & set(DECOYS):
        raise AssertionError(
            f"Your listing includes {sorted(set(outside) & set(DECOYS))}, outside {S3_PREFIX!r}: pass "
            "Prefix=prefix to list_objects_v2 ('lessons/07/exercise-notes.txt' also starts with "
            "'lessons/07/exercise', so keep the final '/')."
        )
    if sorted(listed) == sorted(S3_FILES) or sorted(listed) == sorted(S3_PREFIX + n for n in S3_FILES):
        assert sorted(listed) == real, (
            f"You returned the keys you wrote, but S3 holds {len(real)} keys under the prefix "
            f"(a leftover {LEFTOVER.rsplit('/', 1)[1]!r} too): return what list_objects_v2 lists, which is "
            "what S3 really holds."
        )
    assert listed == real or sorted(listed) != real, (
        "upload_and_list returned the right keys, but not in sorted order: return sorted(keys), so the "
        "answer does not depend on the order S3 lists them in."
    )
    assert not (listed and all(S3_PREFIX + key in real for key in listed)), (
        f"upload_and_list returned {listed[:2]}...: names without the prefix. Return the full keys S3 holds, "
        f"such as {real[0]!r}."
    )
    assert listed == real, (
        f"upload_and_list returned {listed}, but S3 holds {real} under {S3_PREFIX!r}: return the listed "
        "keys, "
        "sorted."
    )


# --- exercise 4: place the workloads -------------------------------------------------------------

WHY_NOT = {
    "Lambda": "Lambda suits short code triggered by events, and it stops any run after 15 minutes",
    "Fargate": "Fargate runs container images without giving you the server: no root on the host, no kernel "
               "modules, and a task that is billed while it waits for work",
    "EC2": "EC2 means running, patching and paying for a whole server, which only pays off when you need "
           "the machine itself (root, kernel modules, drivers) or plain code runs for long",
    "RDS": "RDS runs row-oriented transactional databases, made for many small reads and writes; sums over "
           "billions of rows are a warehouse's job",
    "Redshift": "Redshift is a columnar warehouse for large analytical queries; an application's many small "
                "transactions need a transactional database",
    "S3": "S3 stores whole objects read over an API: it is neither a disk a database can write blocks to "
          "nor a shared folder to mount",
    "EBS": "an EBS volume is a disk attached to one instance at a time, not storage many services or "
           "machines share",
    "EFS": "EFS is a file system shared by several machines; a single server's database disk wants block "
           "storage, and a lake read by many services over an API wants object storage",
}  # fmt: skip
"""Why each service does NOT fit a workload it was wrongly chosen for (quoted in the feedback)."""


@grader("l07_ex4_placements", max_score=1)
def grade_placements(placements: Mapping[str, str]) -> str:
    """``placements`` must give each workload of :data:`compute.WORKLOADS` the service the rules give."""
    assert isinstance(placements, Mapping), (
        f"placements should be a dict such as {{'thumbnails': 'Lambda', ...}}, not "
        f"{type(placements).__name__}."
    )
    missing = sorted(set(compute.WORKLOADS) - set(placements))
    unknown = sorted(set(placements) - set(compute.WORKLOADS))
    assert not unknown, f"placements has keys that are not workloads: {unknown}; use the keys of WORKLOADS."
    assert not missing, f"placements has no answer for {missing}."
    every = (*compute.COMPUTE_SERVICES, *compute.DATABASE_SERVICES, *compute.STORAGE_SERVICES.values())
    wrong = []
    for name, workload in compute.WORKLOADS.items():
        answer = str(placements[name]).strip()
        chosen = next((s for s in every if s.lower() == answer.lower()), None)
        assert chosen is not None, (
            f"{name}: {answer!r} is not one of the services of this exercise: {', '.join(every)}."
        )
        if chosen not in compute.services_for(workload.kind):
            wrong.append(f"{name}: {chosen} is not a {workload.kind} service; this workload needs one of "
                         f"{', '.join(compute.services_for(workload.kind))}")
        elif chosen != compute.recommend(workload):
            wrong.append(f"{name} ({workload.description}): {chosen} does not fit, because {WHY_NOT[chosen]}")
    assert not wrong, (
        f"{len(wrong)} of {len(compute.WORKLOADS)} placements to rethink:\n- " + "\n- ".join(wrong)
    )
    return (
        f"All {len(compute.WORKLOADS)} workloads sit where the rules of thumb put them: short event code on "
        "Lambda, long containers on Fargate, the machine itself on EC2; transactions in RDS and analytics in "
        "Redshift; the lake in S3, one server's disk on EBS, shared folders on EFS."
    )


declare(
    "07_compute_networking_and_storage_on_aws",
    grade_parse_instance_name,
    grade_plan_subnets,
    grade_s3_objects,
    grade_placements,
)
