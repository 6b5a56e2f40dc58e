"""Lesson 08's graders: the solution passes, the placeholder is not done, mistakes are named."""

from __future__ import annotations

import json

from tests.lessons.exercise_helpers import assert_grader_proven
from utils.teaching.exercises.lesson08 import (
    grade_compare_schemas,
    grade_consume_orders,
    grade_orders_of,
    grade_sync_customers,
)

# --- exercise 1: compare_schemas ---------------------------------------------------------------


def _types(rows):
    seen = {}
    for row in rows:
        for column, value in row.items():
            seen.setdefault(column, set())
            if value is not None:
                seen[column].add(type(value).__name__)
    return {column: "|".join(sorted(names)) for column, names in seen.items()}


def compare_schemas(before, after):
    old, new = _types(before), _types(after)
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "retyped": {c: (old[c], new[c]) for c in old.keys() & new.keys()
                    if old[c] and new[c] and old[c] != new[c]},
    }


def compare_schemas_with_pandas(before, after):
    import pandas as pd

    def types(rows):
        frame = pd.DataFrame(rows)
        return {c: "|".join(sorted({type(v).__name__ for v in frame[c] if v is not None and v == v}))
                for c in frame.columns}

    old, new = types(before), types(after)
    changed = {c: [old[c], new[c]] for c in old if c in new and old[c] and new[c] and old[c] != new[c]}
    return {"added": [c for c in new if c not in old], "removed": [c for c in old if c not in new],
            "retyped": changed}


def compare_first_rows(before, after):
    return compare_schemas(before[:1], after[:1])


def compare_counting_none(before, after):
    def types(rows):
        seen = {}
        for row in rows:
            for column, value in row.items():
                seen.setdefault(column, set()).add(type(value).__name__)
        return {c: "|".join(sorted(n)) for c, n in seen.items()}

    old, new = types(before), types(after)
    return {"added": sorted(new.keys() - old.keys()), "removed": sorted(old.keys() - new.keys()),
            "retyped": {c: (old[c], new[c]) for c in old.keys() & new.keys() if old[c] != new[c]}}


def compare_without_retyped(before, after):
    result = compare_schemas(before, after)
    return {"added": result["added"], "removed": result["removed"]}


def test_compare_schemas():
    assert_grader_proven(
        grade_compare_schemas,
        solution=compare_schemas,
        mistakes=[
            (compare_first_rows, "first row of each snapshot only"),
            (compare_counting_none, "because of null values"),
            (compare_without_retyped, "the keys 'added', 'removed' and 'retyped'"),
        ],
        equivalents=[compare_schemas_with_pandas],
    )


# --- exercise 2: sync_customers ----------------------------------------------------------------


def sync_customers(conn, replica, watermark):
    changed = conn.execute("SELECT customerNumber, city, updated_at FROM customers WHERE updated_at > ?",
                           (watermark,)).fetchall()
    for number, city, updated_at in changed:
        replica[number] = {"city": city, "updated_at": updated_at}
        watermark = max(watermark, updated_at)
    live = {row[0] for row in conn.execute("SELECT customerNumber FROM customers").fetchall()}
    for number in list(replica):
        if number not in live:
            del replica[number]
    return watermark


def sync_with_greater_or_equal_and_a_max_query(conn, replica, watermark):
    """'>=' re-reads the boundary row (harmless: the upsert is idempotent); deletes via NOT IN."""
    for number, city, at in conn.execute(
            "SELECT customerNumber, city, updated_at FROM customers WHERE updated_at >= ?", (watermark,)):
        replica[number] = {"customerNumber": number, "city": city, "updated_at": at}
    keys = [str(k) for k in replica]
    if keys:
        live = {n for (n,) in conn.execute(
            f"SELECT customerNumber FROM customers WHERE customerNumber IN ({','.join(keys)})")}
        for number in set(replica) - live:
            replica.pop(number)
    return max([watermark, *(row["updated_at"] for row in replica.values())])


def sync_ignoring_deletes(conn, replica, watermark):
    for number, city, at in conn.execute(
            "SELECT customerNumber, city, updated_at FROM customers WHERE updated_at > ?", (watermark,)):
        replica[number] = {"city": city, "updated_at": at}
        watermark = max(watermark, at)
    return watermark


def sync_inserting_only(conn, replica, watermark):
    for number, city, at in conn.execute(
            "SELECT customerNumber, city, updated_at FROM customers WHERE updated_at > ?", (watermark,)):
        replica.setdefault(number, {"city": city, "updated_at": at})
        watermark = max(watermark, at)
    live = {n for (n,) in conn.execute("SELECT customerNumber FROM customers")}
    for number in set(replica) - live:
        del replica[number]
    return watermark


def sync_full_reload(conn, replica, watermark):
    rows = conn.execute("SELECT customerNumber, city, updated_at FROM customers").fetchall()
    replica.clear()
    replica.update({n: {"city": c, "updated_at": at} for n, c, at in rows})
    return max(at for _, _, at in rows)


def sync_forgetting_the_watermark(conn, replica, watermark):
    sync_customers(conn, replica, watermark)  # returns nothing


def test_sync_customers():
    assert_grader_proven(
        grade_sync_customers,
        solution=sync_customers,
        mistakes=[
            (sync_ignoring_deletes, "never sees a deleted row"),
            (sync_inserting_only, "replace it (upsert)"),
            (sync_full_reload, "ask only for rows with updated_at > watermark"),
            (sync_forgetting_the_watermark, "return the new watermark"),
        ],
        equivalents=[sync_with_greater_or_equal_and_a_max_query],
    )


# --- exercise 3: consume_orders (a real queue of an in-process local cloud) ---------------------


def consume_orders(sqs, queue_url):
    handled = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return handled
        for message in messages:
            order = json.loads(message["Body"])["orderNumber"]
            if order not in handled:
                handled.append(order)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def consume_with_a_set_and_batch_deletes(sqs, queue_url):
    seen = set()
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        seen |= {json.loads(m["Body"])["orderNumber"] for m in messages}
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return sorted(seen)


def consume_without_deleting(sqs, queue_url):
    handled = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return handled
        handled += [n for n in (json.loads(m["Body"])["orderNumber"] for m in messages) if n not in handled]


def consume_twice_the_duplicates(sqs, queue_url):
    handled = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return handled
        for message in messages:
            handled.append(json.loads(message["Body"])["orderNumber"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def consume_one_batch(sqs, queue_url):
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return sorted({json.loads(m["Body"])["orderNumber"] for m in messages})


def consume_deleting_by_message_id(sqs, queue_url):
    handled = []
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        handled.append(json.loads(message["Body"])["orderNumber"])
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["MessageId"])
    return handled


def test_consume_orders(local_cloud):
    assert_grader_proven(
        grade_consume_orders,
        solution=consume_orders,
        mistakes=[
            (consume_without_deleting, "received but never deleted"),
            (consume_twice_the_duplicates, "twice"),
            (consume_one_batch, "at most 10 messages per call"),
            (consume_deleting_by_message_id, "not the messageid"),
        ],
        equivalents=[consume_with_a_set_and_batch_deletes],
    )


# --- exercise 4: orders_of (a real DynamoDB table of an in-process local cloud) -------------------


def orders_of(table, customer_number):
    from boto3.dynamodb.conditions import Key

    items = table.query(KeyConditionExpression=Key("customerNumber").eq(customer_number))["Items"]
    return [int(item["orderNumber"]) for item in items]


def orders_of_with_a_string_condition(table, customer_number):
    response = table.query(KeyConditionExpression="customerNumber = :c",
                           ExpressionAttributeValues={":c": customer_number})
    return [item["orderNumber"] for item in response["Items"]]  # Decimals compare equal to ints


def orders_of_by_scanning(table, customer_number):
    from boto3.dynamodb.conditions import Attr

    items = table.scan(FilterExpression=Attr("customerNumber").eq(customer_number))["Items"]
    return [int(i["orderNumber"]) for i in sorted(items, key=lambda i: i["orderDate"])]


def orders_of_returning_items(table, customer_number):
    from boto3.dynamodb.conditions import Key

    return table.query(KeyConditionExpression=Key("customerNumber").eq(customer_number))["Items"]


def orders_of_newest_first(table, customer_number):
    from boto3.dynamodb.conditions import Key

    items = table.query(KeyConditionExpression=Key("customerNumber").eq(customer_number),
                        ScanIndexForward=False)["Items"]
    return [int(item["orderNumber"]) for item in items]


def test_orders_of(local_cloud):
    assert_grader_proven(
        grade_orders_of,
        solution=orders_of,
        mistakes=[
            (orders_of_by_scanning, "you scanned the table"),
            (orders_of_returning_items, "returned whole items"),
            (orders_of_newest_first, "in the wrong order"),
        ],
        equivalents=[orders_of_with_a_string_condition],
    )


# --- review (issue 13): adversarial and equivalent answers ------------------------------------


def compare_joining_types_as_met(before, after):
    def types(rows):
        met = {}
        for row in rows:
            for column, value in row.items():
                names = met.setdefault(column, [])
                if value is not None and type(value).__name__ not in names:
                    names.append(type(value).__name__)
        return {column: "|".join(names) for column, names in met.items()}

    old, new = types(before), types(after)
    return {"added": sorted(new.keys() - old.keys()), "removed": sorted(old.keys() - new.keys()),
            "retyped": {c: (old[c], new[c]) for c in old.keys() & new.keys()
                        if old[c] and new[c] and old[c] != new[c]}}


def compare_reporting_all_null_columns(before, after):
    old, new = _types(before), _types(after)
    return {"added": sorted(new.keys() - old.keys()), "removed": sorted(old.keys() - new.keys()),
            "retyped": {c: (old[c], new[c]) for c in old.keys() & new.keys() if old[c] != new[c]}}


def compare_with_sets_and_lists(before, after):
    report = compare_schemas(before, after)
    return {"retyped": {c: list(types) for c, types in report["retyped"].items()},
            "removed": tuple(report["removed"]), "added": set(report["added"])}


def test_compare_schemas_review():
    assert_grader_proven(
        grade_compare_schemas,
        solution=compare_schemas,
        mistakes=[
            (compare_joining_types_as_met, "join the names sorted"),
            (compare_reporting_all_null_columns, "never reported as retyped"),
        ],
        equivalents=[compare_with_sets_and_lists],
    )


def sync_rebinding_the_replica(conn, replica, watermark):
    rows = conn.execute("SELECT customerNumber, city, updated_at FROM customers WHERE updated_at > ?",
                        (watermark,)).fetchall()
    replica = dict(replica)  # a copy: the caller's dict never changes
    for number, city, at in rows:
        replica[number] = {"city": city, "updated_at": at}
    return max([watermark, *(at for *_, at in rows)])


def sync_with_update_and_pop(conn, replica, watermark):
    rows = list(conn.execute("select customerNumber, city, updated_at from customers where updated_at > ? "
                             "order by updated_at", [watermark]))
    replica.update({number: {"city": city, "updated_at": at} for number, city, at in rows})
    alive = {number for (number,) in conn.execute("select customerNumber from customers")}
    for gone in [number for number in replica if number not in alive]:
        replica.pop(gone)
    return rows[-1][2] if rows else watermark


def sync_with_a_db_api_cursor(conn, replica, watermark):  # the pymysql/sqlite3 habit
    with conn.cursor() as cursor:
        cursor.execute("SELECT customerNumber, city, updated_at FROM customers WHERE updated_at > ?",
                       (watermark,))
        for number, city, at in cursor.fetchall():
            replica[number] = {"city": city, "updated_at": at}
            watermark = max(watermark, at)
        cursor.execute("SELECT customerNumber FROM customers")
        alive = {number for (number,) in cursor}
    for gone in set(replica) - alive:
        del replica[gone]
    return watermark


def test_sync_customers_review():
    assert_grader_proven(
        grade_sync_customers,
        solution=sync_customers,
        mistakes=[
            (sync_rebinding_the_replica, "makes a new dict that the caller never sees"),
            (sync_ignoring_deletes, "no longer exist in the source"),
        ],
        equivalents=[sync_with_update_and_pop, sync_with_a_db_api_cursor],
    )


def consume_returning_the_bodies(sqs, queue_url):
    bodies, seen = [], set()
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            body = json.loads(message["Body"])
            if body["orderNumber"] not in seen:
                seen.add(body["orderNumber"])
                bodies.append(body)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def consume_skipping_repeats_without_deleting_them(sqs, queue_url):
    handled = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            order = json.loads(message["Body"])["orderNumber"]
            if order in handled:
                continue  # the repeat stays in flight, and comes back after the visibility timeout
            handled.append(order)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return handled


def consume_into_a_set(sqs, queue_url):
    return set(consume_orders(sqs, queue_url))


def test_consume_orders_review(local_cloud):
    assert_grader_proven(
        grade_consume_orders,
        solution=consume_orders,
        mistakes=[
            (consume_returning_the_bodies, "not the messages or their bodies"),
            (consume_skipping_repeats_without_deleting_them, "received but never deleted"),
        ],
        equivalents=[consume_into_a_set],
    )


def orders_of_sorted_by_order_number(table, customer_number):
    return sorted(int(item["orderNumber"]) for item in orders_of_returning_items(table, customer_number))


def orders_of_with_the_key_as_text(table, customer_number):
    return orders_of(table, str(customer_number))


def orders_of_newest_first_reversed(table, customer_number):
    from boto3.dynamodb.conditions import Key

    items = table.query(KeyConditionExpression=Key("customerNumber").eq(customer_number),
                        ScanIndexForward=False)["Items"]
    return tuple(item["orderNumber"] for item in reversed(items))  # Decimals, in a tuple


def test_orders_of_review(local_cloud):
    assert_grader_proven(
        grade_orders_of,
        solution=orders_of,
        mistakes=[
            (orders_of_sorted_by_order_number, "the right orders in the wrong order"),
            (orders_of_with_the_key_as_text, "'114' as text matches nothing"),
        ],
        equivalents=[orders_of_newest_first_reversed],
    )
