"""Lesson 13's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.concepts.design import FLINK_ORCHESTRATION_KPUS_PER_APP, FLINK_STORAGE_GB_PER_KPU, PRICES_USD
from utils.teaching.exercises.lesson13 import (
    grade_changes,
    grade_firehose_delivery_seconds,
    grade_flink_monthly_usd,
)

KPU_HOUR = PRICES_USD["Flink KPU-hour"]
HOURS = PRICES_USD["hours per month"]
STORAGE = PRICES_USD["Flink running application storage GB-month"]

# --- exercise 1: flink_monthly_usd ----------------------------------------------------------------


def flink_monthly_usd(kpus, applications):
    billed_kpus = applications * (kpus + FLINK_ORCHESTRATION_KPUS_PER_APP)
    storage_gb = applications * kpus * FLINK_STORAGE_GB_PER_KPU
    return billed_kpus * HOURS * KPU_HOUR + storage_gb * STORAGE


def flink_per_application(kpus, applications):
    one = (kpus + 1) * 730 * 0.11 + kpus * 50 * 0.10
    return round(one * applications, 2)


def flink_without_orchestration(kpus, applications):
    return applications * kpus * HOURS * KPU_HOUR + applications * kpus * 50 * STORAGE


def flink_one_orchestration_in_all(kpus, applications):
    kpu_hours = (applications * kpus + (1 if applications else 0)) * HOURS
    return kpu_hours * KPU_HOUR + applications * kpus * 50 * STORAGE


def flink_without_storage(kpus, applications):
    return applications * (kpus + 1) * HOURS * KPU_HOUR


def flink_storage_for_every_kpu(kpus, applications):
    return applications * (kpus + 1) * (HOURS * KPU_HOUR + 50 * STORAGE)


def test_flink_monthly_usd():
    assert_grader_proven(
        grade_flink_monthly_usd,
        solution=flink_monthly_usd,
        mistakes=[
            (flink_without_orchestration, "you left out the orchestration KPU"),
            (flink_one_orchestration_in_all, "billed per application"),
            (flink_without_storage, "you left out the running application storage"),
            (flink_storage_for_every_kpu, "gave the orchestration KPU storage too"),
        ],
        equivalents=[flink_per_application],
    )


# --- exercise 2: firehose_delivery_seconds --------------------------------------------------------


def firehose_delivery_seconds(bytes_per_second, buffer_mib=5, interval_s=300):
    if bytes_per_second == 0:
        return interval_s
    return min(interval_s, buffer_mib * 1024 * 1024 / bytes_per_second)


def firehose_with_time_to_fill(bytes_per_second, buffer_mib=5, interval_s=300):
    fill = buffer_mib * 2**20 / bytes_per_second if bytes_per_second else float("inf")
    return fill if fill < interval_s else float(interval_s)


def firehose_every_minute(bytes_per_second, buffer_mib=5, interval_s=60):
    return firehose_delivery_seconds(bytes_per_second, buffer_mib, interval_s)


def firehose_in_megabytes(bytes_per_second, buffer_mib=5, interval_s=300):
    return min(interval_s, buffer_mib * 1e6 / bytes_per_second) if bytes_per_second else interval_s


def firehose_with_max(bytes_per_second, buffer_mib=5, interval_s=300):
    return max(interval_s, buffer_mib * 2**20 / bytes_per_second) if bytes_per_second else interval_s


def firehose_buffer_only(bytes_per_second, buffer_mib=5, interval_s=300):
    return buffer_mib * 2**20 / bytes_per_second if bytes_per_second else interval_s


def firehose_dividing_by_zero(bytes_per_second, buffer_mib=5, interval_s=300):
    return min(interval_s, buffer_mib * 2**20 / bytes_per_second)


def test_firehose_delivery_seconds():
    assert_grader_proven(
        grade_firehose_delivery_seconds,
        solution=firehose_delivery_seconds,
        mistakes=[
            (firehose_every_minute, "not 'every minute or so'"),
            (firehose_in_megabytes, "not in MB"),
            (firehose_with_max, "min, not max"),
            (firehose_buffer_only, "you ignored the interval"),
            (firehose_dividing_by_zero, "divided by zero"),
        ],
        equivalents=[firehose_with_time_to_fill],
    )


# --- exercise 3: changes --------------------------------------------------------------------------

CHANGES = {
    "five_minutes": {"ingestion": "cdc stream", "transformation": "flink streaming"},
    "two_tb": {"storage": "lake and warehouse"},
    "crm": {"serving": "reverse etl"},
}


def test_changes():
    assert_grader_proven(
        grade_changes,
        solution=CHANGES,
        mistakes=[
            (
                {**CHANGES, "five_minutes": {"ingestion": "cdc stream"}},
                "the transformation stage must change too",
            ),
            (
                {
                    **CHANGES,
                    "five_minutes": {"ingestion": "event stream", "transformation": "flink streaming"},
                },
                "a database emits no events",
            ),
            (
                {**CHANGES, "two_tb": {"storage": "lake and warehouse", "ingestion": "cdc stream"}},
                "the ingestion stage does not need to change",
            ),
            ({**CHANGES, "crm": {"serving": "dashboard"}}, "pushed into it"),
            ({**CHANGES, "two_tb": {"storage": "redshift"}}, "is not a choice"),
            ({k: v for k, v in CHANGES.items() if k != "crm"}, "keys should be exactly"),
        ],
        equivalents=[
            {
                "five_minutes": {"transformation": ["Flink streaming"], "ingestion": "CDC stream "},
                "two_tb": {"storage": {"lake and warehouse"}},
                "crm": {"serving": ("reverse etl",)},
            }
        ],
    )


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def firehose_with_infinity(bytes_per_second, buffer_mib=5, interval_s=300):
    fill = float("inf") if not bytes_per_second else buffer_mib * 1024 * 1024 / bytes_per_second
    return min(fill, interval_s)


def firehose_without_defaults(bytes_per_second, buffer_mib, interval_s):
    return firehose_delivery_seconds(bytes_per_second, buffer_mib, interval_s)


def firehose_in_minutes(bytes_per_second, buffer_mib=5, interval_s=300):
    return firehose_delivery_seconds(bytes_per_second, buffer_mib, interval_s) / 60


def test_firehose_delivery_seconds_review():
    assert_grader_proven(
        grade_firehose_delivery_seconds,
        solution=firehose_delivery_seconds,
        mistakes=[
            (firehose_without_defaults, "keep the task's signature"),
            (firehose_in_minutes, "return it in seconds"),
        ],
        equivalents=[firehose_with_infinity],
    )


def flink_in_decimal(kpus, applications):
    from decimal import Decimal

    price = {name: Decimal(str(value)) for name, value in PRICES_USD.items()}
    per_app = ((kpus + FLINK_ORCHESTRATION_KPUS_PER_APP) * price["hours per month"] * price["Flink KPU-hour"]
               + kpus * FLINK_STORAGE_GB_PER_KPU * price["Flink running application storage GB-month"])
    return applications * per_app


def test_flink_monthly_usd_review():
    assert_grader_proven(
        grade_flink_monthly_usd,
        solution=flink_monthly_usd,
        mistakes=[
            (lambda kpus, applications: 165.60, "expected $"),
            (lambda kpus, applications: flink_monthly_usd(kpus, applications) / HOURS, "expected $"),
        ],
        equivalents=[flink_in_decimal],
    )


def test_changes_review():
    assert_grader_proven(
        grade_changes,
        solution=CHANGES,
        mistakes=[
            ({**CHANGES, "five_minutes": {"ingestion": "event stream", "transformation": "flink streaming"}},
             "is not the right ingestion"),
            ({**CHANGES, "two_tb": {"storage": "lake and warehouse", "ingestion": "cdc stream"}},
             "does not need to change"),
        ],
        equivalents=[
            {**CHANGES, "crm": {"serving": ["athena", "dashboard", "Reverse ETL"]}},  # the whole new serving
            {**CHANGES, "two_tb": {"storage": "lake and warehouse", "ingestion": "scheduled glue job"}},
            {"Five minutes": {stage.title(): choice for stage, choice in CHANGES["five_minutes"].items()},
             "two-tb": CHANGES["two_tb"], "CRM": CHANGES["crm"]},
        ],
    )
