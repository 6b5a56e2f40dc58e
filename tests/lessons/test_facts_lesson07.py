"""Lesson 07's facts and figures (issue 14): what the lesson computes and states, tested."""

from __future__ import annotations

import nbformat
import pytest

from tests.lessons.quiz_checks import assert_quiz_balanced
from utils.concepts import compute, costs, vpc
from utils.teaching.exercises import LESSON_SOLUTIONS
from utils.teaching.quizzes import get_quiz

LESSON = LESSON_SOLUTIONS / "07_compute_networking_and_storage_on_aws.ipynb"
MONTH = 30 * 24


def _lesson_text() -> str:
    return "\n".join(c.source for c in nbformat.read(LESSON, as_version=4).cells)


# --- a stopped RDS instance is started again by AWS after 7 days ---------------------------------


def test_a_stopped_rds_instance_bills_its_running_price_again_after_7_days():
    rds = next(r for r in costs.lab_resources() if r.name.startswith("RDS"))
    assert rds.max_stopped_hours == costs.RDS_MAX_STOPPED_HOURS == 168
    hourly = costs.cumulative_cost([rds], MONTH, stop_after=2)
    steps = [b - a for a, b in zip(hourly, hourly[1:], strict=False)]
    assert steps[1] == pytest.approx(rds.running_usd_hour)  # running before the stop
    assert steps[2] == pytest.approx(rds.stopped_usd_hour)  # stopped: storage only
    assert steps[2 + 167] == pytest.approx(rds.stopped_usd_hour)  # still stopped at 7 days minus 1 h
    assert steps[2 + 168] == pytest.approx(rds.running_usd_hour)  # restarted by AWS
    assert steps[-1] == pytest.approx(rds.running_usd_hour)


def test_the_lessons_stopped_lab_figure_counts_the_restart():
    lab = costs.lab_resources()
    stopped = costs.cumulative_cost(lab, MONTH, stop_after=2)[-1]
    by_hand = sum(r.running_usd_hour for r in lab) * 2
    for r in lab:
        stopped_hours = MONTH - 2
        if r.max_stopped_hours is not None:
            restarted = stopped_hours - r.max_stopped_hours
            by_hand += r.stopped_usd_hour * r.max_stopped_hours + r.running_usd_hour * restarted
        else:
            by_hand += r.stopped_usd_hour * stopped_hours
    assert stopped == pytest.approx(by_hand)
    assert round(stopped, 2) == 50.06  # the figure the lesson prints (it said $40.02 before the fix)
    running = costs.cumulative_cost(lab, MONTH)[-1]
    assert costs.cumulative_cost(lab, MONTH, delete_after=2)[-1] < stopped < running


def test_rds_storage_is_priced_at_the_rds_rate_not_the_ebs_rate():
    rds = next(r for r in costs.lab_resources() if r.name.startswith("RDS"))
    assert costs.RDS_GP3_USD_GB_MONTH == 0.115 and costs.EBS_GP3_USD_GB_MONTH == 0.08
    assert rds.stopped_usd_hour == pytest.approx(20 * 0.115 / 730)
    assert rds.stopped_usd_hour != pytest.approx(costs.ebs_usd_hour(20))
    assert "us-east-1" in costs.PRICES_AS_OF and "2025" in costs.PRICES_AS_OF


# --- on-demand: per second for some OS, per hour for others --------------------------------------


@pytest.mark.parametrize(("seconds", "os_name", "billed"), [
    (45, "Amazon Linux", 60), (90, "Ubuntu", 90), (90.2, "Windows", 91),
    (3601, "Red Hat Enterprise Linux", 3601),
    (90, "SUSE Linux Enterprise Server", 3600), (3601, "SUSE Linux Enterprise Server", 7200),
])  # fmt: skip
def test_billed_seconds(seconds, os_name, billed):
    assert costs.billed_seconds(seconds, os_name) == billed


def test_the_lesson_no_longer_says_on_demand_is_simply_per_second():
    text = _lesson_text()
    assert "On-demand** is per second" not in text
    assert "60-second minimum" in text and "SUSE" in text
    assert "per hour" in costs.BILLING_OPTIONS["on-demand"]["note"]


# --- security groups: inbound denied, outbound allowed by default --------------------------------


def test_a_new_security_group_denies_inbound_and_allows_outbound():
    group = vpc.new_security_group()
    assert group["inbound"] == []
    assert not vpc.is_allowed(group["inbound"], "tcp", 22, "203.0.113.9")[0]
    allowed, reason = vpc.is_allowed(group["outbound"], "tcp", 443, "52.216.0.1", direction="outbound")
    assert allowed and "default outbound rule" in reason
    with pytest.raises(ValueError, match="direction"):
        vpc.is_allowed([], "tcp", 22, "10.0.0.1", direction="sideways")


def test_the_model_matches_a_real_new_security_group(local_cloud):
    import boto3

    ec2 = boto3.client("ec2")
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    group_id = ec2.create_security_group(GroupName="facts-l07", Description="test",
                                         VpcId=default_vpc)["GroupId"]
    try:
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    finally:
        ec2.delete_security_group(GroupId=group_id)
    assert group["IpPermissions"] == []
    (egress,) = group["IpPermissionsEgress"]
    assert egress["IpProtocol"] == "-1" and [r["CidrIp"] for r in egress["IpRanges"]] == ["0.0.0.0/0"]
    assert vpc.DEFAULT_OUTBOUND_RULE.protocol == "all" and vpc.DEFAULT_OUTBOUND_RULE.source == "0.0.0.0/0"


def test_the_lesson_and_quiz_state_the_outbound_default():
    text = _lesson_text()
    assert "security groups deny by default" not in text
    assert "allows all outbound traffic" in text
    quiz = get_quiz(7)
    sg = next(q for q in quiz.questions if "security group" in q.prompt)
    right = next(c for c in sg.choices if c.correct)
    assert "outbound" in right.text and "no inbound" in right.text


# --- Lambda, Fargate, EC2: the lesson's cost table and decisions ----------------------------------


def test_the_compute_cost_table():
    assert costs.lambda_monthly_usd(100_000, 200, 512) == pytest.approx(0.1867, abs=1e-4)
    assert costs.lambda_monthly_usd(30_000_000, 200, 512) == pytest.approx(6.0 + 3_000_000 * 0.0000166667)
    assert costs.fargate_monthly_usd(0.5, 1) == pytest.approx(730 * (0.5 * 0.04048 + 0.004445))
    assert costs.ec2_monthly_usd("t3.small") == pytest.approx(730 * 0.0208)
    light, heavy = (costs.lambda_monthly_usd(n, 200, 512) for n in (100_000, 30_000_000))
    always_on = min(costs.fargate_monthly_usd(0.5, 1), costs.ec2_monthly_usd("t3.small"))
    assert light < always_on < heavy  # the lesson's point: pay-per-use wins light, loses heavy


def test_compute_rules():
    assert compute.choose_compute(run_seconds=2, triggered_by_events=True, needs_os_control=False,
                                  packaged_as_container=False) == "Lambda"
    assert compute.choose_compute(run_seconds=16 * 60, triggered_by_events=True, needs_os_control=False,
                                  packaged_as_container=True) == "Fargate"
    assert compute.choose_compute(run_seconds=2, triggered_by_events=True, needs_os_control=True,
                                  packaged_as_container=False) == "EC2"
    assert compute.choose_database(analytical=True) == "Redshift"
    recommended = {name: compute.recommend(w) for name, w in compute.WORKLOADS.items()}
    assert set(recommended.values()) == {"Lambda", "Fargate", "EC2", "RDS", "Redshift", "S3", "EBS", "EFS"}


def test_quiz_is_balanced():
    assert_quiz_balanced(get_quiz(7))
