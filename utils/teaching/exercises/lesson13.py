"""Graders of lesson 13 (``13_designing_a_data_architecture``).

1. ``firehose_delivery_seconds``: how often Firehose writes a file to S3 (buffer size or
   interval, whichever comes first; defaults 5 MiB and 300 s), against
   :func:`utils.concepts.design.firehose_delivery_seconds`.
2. ``flink_monthly_usd``: a month of Managed Service for Apache Flink, with the orchestration
   KPU billed per application and the running storage per KPU, against
   :func:`utils.concepts.design.managed_flink_monthly_usd`.
3. ``changes``: three requirement changes turned into the changed architecture choices, graded
   stage by stage against :func:`utils.concepts.design.changed_choices`.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from utils.concepts import design
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: the Managed Flink bill ------------------------------------------------------------------

FLINK_CASES: tuple[tuple[str, int, int], ...] = (
    ("one application on 1 KPU (the lesson's design)", 1, 1),
    ("one application on 4 KPUs", 4, 1),
    ("three applications on 2 KPUs each", 2, 3),
    ("no application at all", 1, 0),
)


def _flink_variants(kpus: int, apps: int) -> dict[str, float]:
    p = design.PRICES_USD
    hour, hours, gb = (
        p["Flink KPU-hour"],
        p["hours per month"],
        p["Flink running application storage GB-month"],
    )
    per_kpu_gb = design.FLINK_STORAGE_GB_PER_KPU
    storage = apps * kpus * per_kpu_gb * gb
    return {
        "no orchestration": apps * kpus * hours * hour + storage,
        "one orchestration KPU in all": (apps * kpus + (1 if apps else 0)) * hours * hour + storage,
        "no storage": apps * (kpus + 1) * hours * hour,
        "storage for the orchestration KPU": apps * (kpus + 1) * hours * hour
        + apps * (kpus + 1) * per_kpu_gb * gb,
        "storage per hour": apps * (kpus + 1) * hours * hour + storage * hours,
    }


FLINK_FEEDBACK = {
    "no orchestration": (
        "you left out the orchestration KPU. Managed Service for Apache Flink bills one extra KPU per "
        "application, every hour it runs, on top of the KPUs of the job: add "
        "FLINK_ORCHESTRATION_KPUS_PER_APP "
        "for each application."
    ),
    "one orchestration KPU in all": (
        "you added one orchestration KPU for all the applications together; it is billed per application, "
        "so three applications pay for three."
    ),
    "no storage": (
        "you left out the running application storage: 50 GB per KPU of the application, billed per GB-month."
    ),
    "storage for the orchestration KPU": (
        "you gave the orchestration KPU storage too; running storage comes with the application's KPUs only."
    ),
    "storage per hour": (
        "you billed the storage every hour; its price is per GB-MONTH, so count it once a month."
    ),
}


@grader("l13_ex2_flink_monthly_usd", max_score=1)
def grade_flink_monthly_usd(flink_monthly_usd: Callable[[int, int], float]) -> str:
    """``flink_monthly_usd(kpus, applications)`` must equal :func:`design.managed_flink_monthly_usd`."""
    assert callable(flink_monthly_usd), (
        "flink_monthly_usd should be a function (def flink_monthly_usd(kpus, applications): ...), "
        f"not {type(flink_monthly_usd).__name__}."
    )
    results = []
    for label, kpus, apps in FLINK_CASES:
        got = flink_monthly_usd(kpus, apps)
        assert isinstance(got, numbers.Real | Decimal) and not isinstance(got, bool), (
            f"For {label} you returned {got!r}: return dollars, a number."
        )
        got = float(got)
        results.append(got)
    for (label, kpus, apps), got in zip(FLINK_CASES, results, strict=True):
        expected = design.managed_flink_monthly_usd(kpus, apps)
        if math.isclose(got, expected, abs_tol=0.01):
            continue
        for name, feedback in FLINK_FEEDBACK.items():
            if all(
                math.isclose(r, _flink_variants(k, a)[name], abs_tol=0.01)
                for (_, k, a), r in zip(FLINK_CASES, results, strict=True)
            ):
                raise AssertionError(
                    f"For {label} you returned ${got:,.2f}, expected ${expected:,.2f}: {feedback}"
                )
        raise AssertionError(f"For {label} you returned ${got:,.2f}, expected ${expected:,.2f}.")
    one = design.managed_flink_monthly_usd(1, 1)
    return (
        f"flink_monthly_usd matches the bill: one application on 1 KPU costs ${one:,.2f} a month, half of it "
        "for the orchestration KPU that is easy to forget."
    )


# --- exercise 2: how often Firehose writes to S3 ----------------------------------------------------------

GB_PER_DAY = 1e9 / 86_400  # bytes per second of 1 GB a day

FIREHOSE_CASES: tuple[tuple[str, float, dict[str, float]], ...] = (
    ("the lesson's 0.5 GB a day, default buffering", 0.5 * GB_PER_DAY, {}),
    ("1 MB per second, default buffering", 1e6, {}),
    ("20 KB per second with a 1 MiB buffer and a 60 s interval", 20e3, {"buffer_mib": 1, "interval_s": 60}),
    (
        "100 KB per second with a 128 MiB buffer and a 900 s interval",
        100e3,
        {"buffer_mib": 128, "interval_s": 900},
    ),
    ("no data arriving, default buffering", 0.0, {}),
)


def _firehose_variants(
    rate: float,
    buffer_mib: float = design.FIREHOSE_DEFAULT_BUFFER_MIB,
    interval_s: float = design.FIREHOSE_DEFAULT_INTERVAL_S,
) -> dict[str, float]:
    fill = buffer_mib * 2**20 / rate
    return {
        "megabytes": min(interval_s, buffer_mib * 1e6 / rate),
        "max": max(interval_s, fill),
        "buffer only": fill,
        "minutes": min(interval_s, fill) / 60,
    }


FIREHOSE_FEEDBACK = {
    "megabytes": "the buffer is in MiB (2**20 bytes), not in MB (10**6 bytes).",
    "max": (
        "Firehose writes as soon as EITHER condition is met, so take the smaller of the fill time and the "
        "interval (min, not max)."
    ),
    "minutes": "that is the wait in minutes; return it in seconds (the interval is already in seconds).",
    "buffer only": (
        "you ignored the interval. At a low rate the buffer takes long to fill, and the interval "
        "ends the wait first."
    ),
}


@grader("l13_ex1_firehose_delivery_seconds", max_score=1)
def grade_firehose_delivery_seconds(firehose_delivery_seconds: Callable[..., float]) -> str:
    """``firehose_delivery_seconds(bytes_per_second, buffer_mib=5, interval_s=300)`` like the reference."""
    assert callable(firehose_delivery_seconds), (
        "firehose_delivery_seconds should be a function "
        "(def firehose_delivery_seconds(bytes_per_second, buffer_mib=5, interval_s=300): ...), "
        f"not {type(firehose_delivery_seconds).__name__}."
    )
    defaults = {
        name: param.default
        for name, param in inspect.signature(firehose_delivery_seconds).parameters.items()
        if param.default is not inspect.Parameter.empty
    }
    assert (
        defaults.get("interval_s", design.FIREHOSE_DEFAULT_INTERVAL_S) == design.FIREHOSE_DEFAULT_INTERVAL_S
    ), (
        f"Your default interval_s is {defaults['interval_s']}: Firehose's default buffer interval for S3 is "
        f"{design.FIREHOSE_DEFAULT_INTERVAL_S} s (five minutes), not 'every minute or so'."
    )
    assert (
        defaults.get("buffer_mib", design.FIREHOSE_DEFAULT_BUFFER_MIB) == design.FIREHOSE_DEFAULT_BUFFER_MIB
    ), (
        f"Your default buffer_mib is {defaults['buffer_mib']}: Firehose's default buffer size is "
        f"{design.FIREHOSE_DEFAULT_BUFFER_MIB} MiB."
    )
    results = []
    for label, rate, options in FIREHOSE_CASES:
        try:
            got = firehose_delivery_seconds(rate, **options)
        except TypeError as error:
            raise AssertionError(
                f"With {label}, calling firehose_delivery_seconds({rate:g}, **{options}) raised TypeError "
                f"({error}): keep the task's signature, firehose_delivery_seconds(bytes_per_second, "
                "buffer_mib=5, interval_s=300), parameter names and defaults included."
            ) from None
        except ZeroDivisionError:
            raise AssertionError(
                f"With {label}, your function divided by zero: when nothing arrives the buffer never fills, "
                "so only the interval ends the wait. Return the interval."
            ) from None
        assert isinstance(got, numbers.Real | Decimal) and not isinstance(got, bool), (
            f"With {label} you returned {got!r}: return seconds, a number."
        )
        got = float(got)
        results.append(got)
    for (label, rate, options), got in zip(FIREHOSE_CASES, results, strict=True):
        expected = design.firehose_delivery_seconds(rate, **options)
        if math.isclose(got, expected, rel_tol=1e-6):
            continue
        for name, feedback in FIREHOSE_FEEDBACK.items():
            if all(
                rate == 0 or math.isclose(r, _firehose_variants(rate, **options)[name], rel_tol=1e-6)
                for (_, rate, options), r in zip(FIREHOSE_CASES, results, strict=True)
            ):
                raise AssertionError(
                    f"With {label} you returned {got:.2f} s, expected {expected:.2f} s: {feedback}"
                )
        raise AssertionError(f"With {label} you returned {got!r} s, expected {expected:.2f} s.")
    lesson = design.firehose_delivery_seconds(0.5 * GB_PER_DAY)
    return (
        f"firehose_delivery_seconds is right: at 0.5 GB a day the 5 MiB buffer would take "
        f"{5 * 2**20 / (0.5 * GB_PER_DAY) / 60:.0f} minutes to fill, so the {lesson:.0f} s interval decides."
    )


# --- exercise 3: a requirement changes ---------------------------------------------------------------------

WHY = {
    (
        "five_minutes",
        "ingestion",
    ): "a daily batch cannot deliver within five minutes, and a database emits no "
    "events by itself: capture its changes",
    (
        "five_minutes",
        "transformation",
    ): "a nightly transform would undo a five-minute ingestion: the star schema "
    "must be updated as events arrive",
    ("two_tb", "storage"): "at terabytes a day, hot modelled data belongs in a warehouse next to the lake",
    ("crm", "serving"): "the CRM is an operational tool: data must be pushed into it",
}
NOT_CHANGED = {
    "five_minutes": "the volume and the consumers did not change",
    "two_tb": "data may still be a day old, so batch ingestion and transformation still fit",
    "crm": "freshness and volume did not change; only a new consumer appeared",
}


def _names(value: Any) -> set[str]:
    values = (
        [value]
        if isinstance(value, str)
        else list(value)
        if isinstance(value, list | tuple | set)
        else [value]
    )
    return {str(v).strip().lower() for v in values}


@grader("l13_ex3_changes", max_score=1)
def grade_changes(changes: dict[str, dict[str, Any]]) -> str:
    """``changes`` maps each requirement change to ``{stage: new choice}``, as in ``changed_choices``."""
    assert isinstance(changes, dict), (
        "changes should be a dict like {'five_minutes': {'ingestion': ...}, 'two_tb': {...}, 'crm': {...}}, "
        f"not a {type(changes).__name__}."
    )
    changes = {str(key).strip().lower().replace(" ", "_").replace("-", "_"): value
               for key, value in changes.items()}  # "Five minutes" is as clear as "five_minutes"
    assert set(changes) == set(design.REQUIREMENT_CHANGES), (
        f"The keys should be exactly {sorted(design.REQUIREMENT_CHANGES)}; yours are {sorted(changes)}."
    )
    problems = []
    today = design.design_choices(design.LAB_REQUIREMENTS)
    for key, (_story, fields) in design.REQUIREMENT_CHANGES.items():
        answer = changes[key]
        assert isinstance(answer, dict), (
            f"changes[{key!r}] should be a dict of the stages that change, like {{'storage': 's3 lake'}}; "
            f"got {answer!r}."
        )
        expected = design.changed_choices(design.LAB_REQUIREMENTS, replace(design.LAB_REQUIREMENTS, **fields))
        answer = {str(stage).strip().lower(): value for stage, value in answer.items()}
        for stage, value in answer.items():
            assert stage in design.CHOICES, (
                f"In changes[{key!r}], {stage!r} is not a stage: use {list(design.CHOICES)}."
            )
            unknown = _names(value) - set(design.CHOICES[stage])
            assert not unknown, (
                f"In changes[{key!r}][{stage!r}], {sorted(unknown)} is not a choice: "
                f"use {list(design.CHOICES[stage])}."
            )
        for stage, names in expected.items():
            if stage not in answer:
                problems.append(f"{key}: the {stage} stage must change too ({WHY[key, stage]})")
            elif _names(answer[stage]) not in (names, today[stage] | names):  # the new part, or all of it
                problems.append(
                    f"{key}: {sorted(_names(answer[stage]))} is not the right {stage} ({WHY[key, stage]})"
                )
        for stage in answer:
            if stage not in expected and _names(answer[stage]) != today[stage]:  # today's choice: no change
                problems.append(
                    f"{key}: the {stage} stage does not need to change ({NOT_CHANGED[key]}); "
                    "changing it adds cost and risk for nothing"
                )
    assert not problems, f"{len(problems)} thing(s) to fix: " + "; ".join(problems) + "."
    return (
        "Each requirement change moves exactly the stages it touches: freshness moves ingestion and "
        "transformation, volume moves storage, a new consumer adds a way of serving it."
    )


declare(
    "13_designing_a_data_architecture",
    grade_firehose_delivery_seconds,
    grade_flink_monthly_usd,
    grade_changes,
)
