"""Lesson 10's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

import numpy as np
import pymysql

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.teaching.exercises.lesson10 import (
    grade_dashboard_choices,
    grade_find_defects,
    grade_nearest,
    grade_probe,
)

# --- exercise 1: find_defects ---------------------------------------------------------------------


def find_defects(rows, now):
    flags, seen = set(), set()
    for i, row in enumerate(rows):
        if any(row.get(column) in (None, "") for column in ("email", "country")):
            flags.add((i, "completeness"))
        if row["customerNumber"] in seen:
            flags.add((i, "uniqueness"))
        seen.add(row["customerNumber"])
        if now - row["updated_at"] > 24:
            flags.add((i, "timeliness"))
    return flags


def find_defects_as_a_list_with_freshness(rows, now):
    counts = {}
    found = []
    for i, row in enumerate(rows):
        if not row["email"] or not row["country"]:
            found.append([i, "completeness"])
        counts[row["customerNumber"]] = counts.get(row["customerNumber"], 0) + 1
        if counts[row["customerNumber"]] > 1:
            found.append((i, "uniqueness"))
        if row["updated_at"] < now - 24:
            found.append((i, "freshness"))
    return found


def find_defects_only_none(rows, now):
    flags = {f for f in find_defects(rows, now) if f[1] != "completeness"}
    return flags | {(i, "completeness") for i, row in enumerate(rows)
                    if row["email"] is None or row["country"] is None}


def find_defects_flagging_both_copies(rows, now):
    flags = {f for f in find_defects(rows, now) if f[1] != "uniqueness"}
    numbers = [row["customerNumber"] for row in rows]
    return flags | {(i, "uniqueness") for i, n in enumerate(numbers) if numbers.count(n) > 1}


def find_defects_with_inclusive_limit(rows, now):
    flags = {f for f in find_defects(rows, now) if f[1] != "timeliness"}
    return flags | {(i, "timeliness") for i, row in enumerate(rows) if now - row["updated_at"] >= 24}


def find_defects_checking_email_only(rows, now):
    flags = {f for f in find_defects(rows, now) if f[1] != "completeness"}
    return flags | {(i, "completeness") for i, row in enumerate(rows) if row["email"] in (None, "")}


def find_defects_by_customer_number(rows, now):
    return {(rows[i]["customerNumber"], dim) for i, dim in find_defects(rows, now)}


def find_defects_with_a_dict_of_seen(rows, now):
    flags = {f for f in find_defects(rows, now) if f[1] != "uniqueness"}
    seen = {}
    for i, row in enumerate(rows):  # a dict that only remembers the last copy misses the third one
        if seen.get(row["customerNumber"]) == i - 1:
            flags.add((i, "uniqueness"))
        seen[row["customerNumber"]] = i
    return flags


def test_find_defects():
    assert_grader_proven(
        grade_find_defects,
        solution=find_defects,
        mistakes=[
            (find_defects_only_none, "an empty string is missing too"),
            (find_defects_flagging_both_copies, "flag only the repeats"),
            (find_defects_with_inclusive_limit, "not >="),
            (find_defects_checking_email_only, "every required column"),
            (find_defects_by_customer_number, "return the row's index"),
            (find_defects_with_a_dict_of_seen, "repeats customerNumber"),
        ],
        equivalents=[find_defects_as_a_list_with_freshness],
    )


# --- exercise 2: probe ----------------------------------------------------------------------------

DENIED = {1044, 1045, 1142, 1143, 1227, 1370, 1410}


def probe(conn, sql):
    cursor = conn.cursor()
    try:
        cursor.execute(sql)
        return "allowed"
    except pymysql.MySQLError as error:
        return "denied" if error.args[0] in DENIED else "error"
    finally:
        conn.rollback()
        cursor.close()


def probe_by_message(conn, sql):
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()
    except Exception as error:
        text = str(error).lower()
        return "denied" if "denied" in text else "error"
    finally:
        conn.rollback()
    return "allowed"


def probe_any_error_is_denied(conn, sql):
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
        return "allowed"
    except Exception:
        return "denied"
    finally:
        conn.rollback()


def probe_only_1142(conn, sql):
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
        return "allowed"
    except pymysql.MySQLError as error:
        return "denied" if error.args[0] == 1142 else "error"
    finally:
        conn.rollback()


def probe_without_catching(conn, sql):
    with conn.cursor() as cursor:
        cursor.execute(sql)
    conn.rollback()
    return "allowed"


def probe_without_rollback(conn, sql):
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
        return "allowed"
    except pymysql.MySQLError as error:
        return "denied" if error.args[0] in DENIED else "error"


def probe_returning_booleans(conn, sql):
    return probe(conn, sql) == "allowed"


def test_probe():
    assert_grader_proven(
        grade_probe,
        solution=probe,
        mistakes=[
            (probe_any_error_is_denied, "not every error is a refusal"),
            (probe_only_1142, "not only 1142"),
            (probe_without_catching, "catch the error"),
            (probe_returning_booleans, "should return 'allowed', 'denied' or 'error'"),
            (probe_without_rollback, "left a transaction open"),
        ],
        equivalents=[probe_by_message],
    )


# --- exercise 3: nearest --------------------------------------------------------------------------


def nearest(query, vectors, k):
    sims = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    return list(np.argsort(-sims)[:k])


def nearest_with_a_loop(query, vectors, k):
    def cosine(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True)) / (
            sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5)

    scored = sorted(range(len(vectors)), key=lambda i: cosine(vectors[i], query), reverse=True)
    return scored[:k]


def nearest_by_dot_product(query, vectors, k):
    return list(np.argsort(-(vectors @ query))[:k])


def nearest_ascending(query, vectors, k):
    sims = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    return list(np.argsort(sims)[:k])


def nearest_by_distance(query, vectors, k):
    return list(np.argsort(np.linalg.norm(vectors - query, axis=1))[:k])


def nearest_returning_scores(query, vectors, k):
    sims = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    return sorted(sims, reverse=True)[:k]


def test_nearest():
    assert_grader_proven(
        grade_nearest,
        solution=nearest,
        mistakes=[
            (nearest_by_dot_product, "ranked by the dot product"),
            (nearest_ascending, "least similar"),
            (nearest_by_distance, "Euclidean distance"),
            (nearest_returning_scores, "not similarity scores"),
        ],
        equivalents=[nearest_with_a_loop],
    )


# --- exercise 4: dashboard_choices ----------------------------------------------------------------


def test_dashboard_choices():
    solution = {"finance": "Amazon QuickSight", "product": "Apache Superset", "warehouse": "Metabase"}
    assert_grader_proven(
        grade_dashboard_choices,
        solution=solution,
        mistakes=[
            ({**solution, "product": "Metabase"}, "product: Metabase fails 'permissive licence"),
            ({**solution, "warehouse": "Apache Superset"}, "one container is a complete install"),
            ({**solution, "finance": "Metabase"}, "an AWS service"),
            ({"finance": "Amazon QuickSight", "product": "Apache Superset"}, "keys should be exactly"),
            ({**solution, "finance": "Tableau"}, "answer with one of"),
        ],
        equivalents=[{"finance": "quicksight", "product": "Superset", "warehouse": " metabase "}],
    )


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def find_defects_with_elif(rows, now):
    flags, seen = set(), set()
    for i, row in enumerate(rows):
        if row["email"] in (None, "") or row["country"] in (None, ""):
            flags.add((i, "completeness"))
        elif row["customerNumber"] in seen:
            flags.add((i, "uniqueness"))
        elif now - row["updated_at"] > 24:
            flags.add((i, "timeliness"))
        seen.add(row["customerNumber"])
    return flags


def find_defects_with_a_counter_and_numpy_indices(rows, now):
    from collections import Counter

    flags, copies = [], Counter()
    for i, row in enumerate(rows):
        if not row["email"] or not row["country"]:
            flags.append((np.int64(i), "Completeness"))
        copies[row["customerNumber"]] += 1
        if copies[row["customerNumber"]] > 1:
            flags.append([i, "uniqueness"])
        if row["updated_at"] < now - 24:
            flags.append((i, "freshness"))
    return flags


def test_find_defects_review():
    assert_grader_proven(
        grade_find_defects,
        solution=find_defects,
        mistakes=[
            (find_defects_with_elif, "a row can fail several dimensions"),
            (find_defects_by_customer_number, "That is a customerNumber"),
        ],
        equivalents=[find_defects_with_a_counter_and_numpy_indices],
    )


def nearest_skipping_the_first(query, vectors, k):
    similarities = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    return list(np.argsort(-similarities)[1:k + 1])


def nearest_by_absolute_cosine(query, vectors, k):
    similarities = np.abs(vectors @ query) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    return list(np.argsort(-similarities)[:k])


def nearest_with_heapq_without_the_query_length(query, vectors, k):
    import heapq

    scored = [(float(row @ query / np.linalg.norm(row)), i) for i, row in enumerate(vectors)]
    return [i for _, i in heapq.nlargest(k, scored)]  # |query| is the same for every row


def nearest_as_a_reversed_numpy_array(query, vectors, k):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.argsort(unit @ (query / np.linalg.norm(query)))[::-1][:k]


def test_nearest_review():
    assert_grader_proven(
        grade_nearest,
        solution=nearest,
        mistakes=[
            (nearest_skipping_the_first, "you left out the most similar row"),
            (nearest_by_absolute_cosine, "ranked by the absolute cosine"),
        ],
        equivalents=[nearest_with_heapq_without_the_query_length, nearest_as_a_reversed_numpy_array],
    )


def probe_catching_mysql_errors_only(conn, sql):
    cursor = conn.cursor()
    try:
        cursor.execute(sql)
        verdict = "allowed"
    except pymysql.MySQLError as error:
        verdict = "denied" if error.args and error.args[0] in DENIED else "error"
    finally:
        cursor.close()
        conn.rollback()
    return verdict


def probe_catching_operational_errors_only(conn, sql):
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
        return "allowed"
    except pymysql.err.OperationalError as error:  # 1146 and 1064 are ProgrammingErrors: they escape
        return "denied" if error.args[0] in DENIED else "error"
    finally:
        conn.rollback()


def probe_remembering_the_lessons_table(conn, sql):  # right on every statement the lesson shows
    from utils.concepts.security import PROBES, probe_privilege

    return probe_privilege(conn, sql) if sql in dict(PROBES) else "error"


def test_probe_review():
    assert_grader_proven(
        grade_probe,
        solution=probe,
        mistakes=[
            (probe_catching_operational_errors_only, "raised ProgrammingError"),
            (probe_only_1142, "1044 is a refused database"),
            (probe_remembering_the_lessons_table, "SELECT COUNT(*) FROM orders"),
        ],
        equivalents=[probe_catching_mysql_errors_only],
    )


def test_dashboard_choices_review():
    solution = {"finance": "Amazon QuickSight", "product": "Apache Superset", "warehouse": "Metabase"}
    assert_grader_proven(
        grade_dashboard_choices,
        solution=solution,
        mistakes=[
            ({**solution, "finance": "Metabase"}, "finance: Metabase fails"),
            ({**solution, "product": "Tableau"}, "answer with one of"),
        ],
        equivalents=[{"Finance": "quicksight", " Product ": "superset", "WAREHOUSE": " metabase "}],
    )
