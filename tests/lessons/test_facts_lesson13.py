"""Lesson 13's figures (issue #14): the Managed Flink bill and Firehose's buffering, as computed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from utils.concepts import design


def test_prices_state_their_region_and_date():
    assert design.PRICES_REGION.startswith("us-east-1") and design.PRICES_AS_OF
    assert design.PRICES_USD["Flink KPU-hour"] == 0.11
    assert design.PRICES_USD["Flink running application storage GB-month"] == 0.10


def test_managed_flink_bills_one_orchestration_kpu_per_application_and_storage_per_kpu():
    assert design.FLINK_ORCHESTRATION_KPUS_PER_APP == 1 and design.FLINK_STORAGE_GB_PER_KPU == 50
    # One application on 1 KPU: (1 + 1) KPU x 730 h x $0.11 + 50 GB x $0.10 = $165.60 a month.
    assert design.managed_flink_monthly_usd(1) == pytest.approx(165.60)
    # Three 1-KPU applications pay three orchestration KPUs; one 3-KPU application pays one.
    assert design.managed_flink_monthly_usd(1, 3) == pytest.approx(496.80)
    assert design.managed_flink_monthly_usd(3, 1) == pytest.approx(336.20)
    assert design.managed_flink_monthly_usd(2, 0) == 0
    with pytest.raises(ValueError):
        design.managed_flink_monthly_usd(0)


def test_the_streaming_estimate_lists_the_orchestration_kpu_and_storage():
    stream = replace(design.LAB_REQUIREMENTS, max_data_age_minutes=5)
    lines = {line.item: line.usd_month for line in design.monthly_cost_breakdown(stream)}
    flink = {item: usd for item, usd in lines.items() if item.startswith("Flink")}
    assert flink == {
        "Flink: KPUs running the job": pytest.approx(80.30),
        "Flink: orchestration KPU (one per application)": pytest.approx(80.30),
        "Flink: running application storage": pytest.approx(5.00),
    }
    assert sum(flink.values()) == pytest.approx(design.managed_flink_monthly_usd(1))
    # 15 million 1 KB records a month, each billed as 5 KB by Firehose: 75 GB x $0.029.
    assert lines["Firehose delivery to S3"] == pytest.approx(2.18)
    assert (
        design.estimated_monthly_cost(stream)
        > stream.monthly_budget_usd
        > design.estimated_monthly_cost(design.LAB_REQUIREMENTS)
    )


def test_firehose_default_buffering_is_5_mib_or_300_seconds_not_every_minute():
    assert (design.FIREHOSE_DEFAULT_BUFFER_MIB, design.FIREHOSE_DEFAULT_INTERVAL_S) == (5, 300)
    lesson_rate = 0.5e9 / 86_400  # the scenario's 0.5 GB a day, in bytes per second
    assert 5 * 2**20 / lesson_rate / 60 == pytest.approx(15.1, abs=0.1)  # the buffer would take 15 min
    assert design.firehose_delivery_seconds(lesson_rate) == 300  # so the interval decides
    assert design.firehose_delivery_seconds(1e6) == pytest.approx(5.24288)
    assert design.firehose_delivery_seconds(10e3) == 300  # the quiz: 524 s to fill, 300 s interval
    assert design.firehose_delivery_seconds(0) == 300
    assert design.firehose_delivery_seconds(lesson_rate, interval_s=60) == 60


def test_each_requirement_change_moves_only_its_stages():
    moved = {
        key: design.changed_choices(design.LAB_REQUIREMENTS, replace(design.LAB_REQUIREMENTS, **fields))
        for key, (_story, fields) in design.REQUIREMENT_CHANGES.items()
    }
    assert moved == {
        "five_minutes": {"ingestion": {"cdc stream"}, "transformation": {"flink streaming"}},
        "two_tb": {"storage": {"lake and warehouse"}},
        "crm": {"serving": {"reverse etl"}},
    }
    with pytest.raises(ValueError):
        design.choice_name("undercurrents", "IAM")
