"""Graders of lesson 08 (``08_source_systems_and_ingestion``).

1. ``compare_schemas``: schema drift between two snapshots, against
   :func:`utils.concepts.ingestion.schema_changes`;
2. ``consume_orders``: an idempotent SQS consumer, run against a real queue on the target
   that the grader creates, fills (with a producer's duplicates) and removes;
3. ``sync_customers``: an incremental pull that also catches updates and deletes, run
   against a SQLite source (:class:`utils.concepts.ingestion.ChangingSource`) that the grader
   changes between pulls; the copy must match the source after every pull, and each pull
   may only transfer the rows that changed;
4. ``orders_of``: one customer's orders from a real DynamoDB table, read by key (a Query),
   not by reading the whole table (a Scan).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from utils.concepts import ingestion, keyvalue, queues
from utils.teaching.grading import grader
from utils.teaching.registry import declare

# --- exercise 1: schema drift between two snapshots ----------------------------------------------

MONDAY, TUESDAY = ingestion.customer_snapshots()
"""Tuesday: customerName renamed, creditLimit sometimes sent as text, an email column in one row
(not the first), and state NULL everywhere (which is not a type change)."""

SNAPSHOT_CASES: tuple[tuple[str, Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]], ...] = (
    ("the lesson's Monday and Tuesday customers", MONDAY, TUESDAY),
    ("two identical snapshots", MONDAY, MONDAY),
    ("Tuesday back to Monday", TUESDAY, MONDAY),
    ("an ID that turns into text in every row",
     [{"id": 1, "amount": 9.5}, {"id": 2, "amount": 3.0}],
     [{"id": "1", "amount": 9.5}, {"id": "2", "amount": 3.0}]),
    ("a code sent as text, then as a number",
     [{"code": "A1"}, {"code": "B2"}], [{"code": "C3"}, {"code": 7}, {"code": None}]),
)  # fmt: skip


def _normalise_changes(got: Any) -> dict[str, Any]:
    assert isinstance(got, Mapping) and {"added", "removed", "retyped"} <= set(got), (
        "compare_schemas should return a dict with the keys 'added', 'removed' and 'retyped', e.g. "
        "{'added': ['email'], 'removed': [], 'retyped': {'creditLimit': ('float', 'float|str')}}."
    )
    retyped = got["retyped"]
    assert isinstance(retyped, Mapping), "'retyped' should be a dict: column -> (old type, new type)."
    return {
        "added": sorted(got["added"]),
        "removed": sorted(got["removed"]),
        "retyped": {c: tuple(v) for c, v in retyped.items()},
    }


@grader("l08_ex1_compare_schemas", max_score=1)
def grade_compare_schemas(compare_schemas: Callable[[list[dict], list[dict]], dict[str, Any]]) -> str:
    """``compare_schemas(before, after)`` must report what :func:`ingestion.schema_changes` reports."""
    assert callable(compare_schemas), (
        "compare_schemas should be a function (def compare_schemas(before, after): ...), "
        f"not {type(compare_schemas).__name__}."
    )
    for label, before, after in SNAPSHOT_CASES:
        expected = ingestion.schema_changes(before, after)
        got = _normalise_changes(compare_schemas([dict(r) for r in before], [dict(r) for r in after]))
        if got == expected:
            continue
        first_rows = ingestion.schema_changes(before[:1], after[:1])
        if got["added"] == first_rows["added"] != expected["added"] or (
            got["retyped"] == first_rows["retyped"] != expected["retyped"]
        ):
            raise AssertionError(
                f"On {label} you looked at the first row of each snapshot only: a column can appear (email) "
                "or "
                "change type (creditLimit as text) in any row. Collect the columns and types over ALL rows."
            )
        nulls = [c for c, (old, new) in got["retyped"].items() if "NoneType" in old + new]
        if nulls:
            raise AssertionError(
                f"On {label} you report {nulls} as retyped because of NULL values (NoneType). A NULL says "
                "nothing "
                "about a column's type: skip None values when you collect types."
            )
        unsorted = {c for c, (old, new) in got["retyped"].items()
                    if any("|" in t and t != "|".join(sorted(t.split("|"))) for t in (old, new))}
        if unsorted:
            raise AssertionError(
                f"On {label} you report {sorted(unsorted)} with the type names in the order you met them "
                f"({got['retyped'][min(unsorted)]}): join the names sorted ('|'.join(sorted(names))), so the "
                "same set of types always gives the same text."
            )
        untyped = [c for c, (old, new) in got["retyped"].items() if not old or not new]
        if untyped:
            raise AssertionError(
                f"On {label} you report {untyped} as retyped, but on one side its values are all None: such "
                "a column has no type ('') and is never reported as retyped (nothing says its type changed)."
            )
        for part in ("added", "removed", "retyped"):
            assert got[part] == expected[part], (
                f"On {label} '{part}' is {got[part]!r}, expected {expected[part]!r}."
            )
    return (
        "compare_schemas finds every added, removed and retyped column over whole snapshots, and does not "
        "mistake NULLs for a change of type."
    )


# --- exercise 2: an incremental pull that catches updates and deletes ----------------------------

START = [(103, "Nantes"), (112, "Las Vegas"), (114, "Melbourne"), (119, "Nantes"), (121, "Stavern"),
         (124, "San Rafael"), (125, "Warszawa"), (128, "Frankfurt"), (129, "San Francisco"), (131, "NYC"),
         (141, "Madrid"), (144, "Lulea")]  # fmt: skip

ROUNDS: tuple[tuple[str, Callable[[ingestion.ChangingSource], None]], ...] = (
    ("the first, full pull", lambda s: None),
    ("the pull after customer 112 moved to Reno and customer 151 was added",
     lambda s: (s.update(112, "Reno"), s.insert(151, "Bergamo"))),
    ("the pull after customer 114 was deleted", lambda s: s.delete(114)),
    ("a pull when nothing changed", lambda s: None),
    ("the pull after customer 112 moved twice between two pulls and customer 125 was deleted",
     lambda s: (s.update(112, "Boston"), s.update(112, "Brisbane"), s.delete(125))),
    ("the pull after customer 114 came back (deleted, then re-created)", lambda s: s.insert(114, "Sydney")),
)  # fmt: skip


def _describe_difference(replica: Mapping[Any, Any], truth: Mapping[int, Mapping[str, Any]]) -> str:
    stale = sorted(set(replica) - set(truth))
    if stale:
        return (f"customer(s) {stale} no longer exist in the source but are still in your copy: an "
                "incremental pull never sees a deleted row, so compare your keys with the source's (SELECT "
                "customerNumber "
                "FROM customers) and delete the ones that are gone")  # fmt: skip
    missing = sorted(set(truth) - set(replica))
    if missing and not replica:
        return (f"your copy is empty, but the source holds {len(truth)} customers: change the dict you are "
                "given in place (replica[number] = {...}, del replica[number]); `replica = {...}` inside the "
                "function makes a new dict that the caller never sees")
    if missing:
        return f"customer(s) {missing} are in the source but not in your copy"
    for number, row in truth.items():
        mine = replica[number]
        if not isinstance(mine, Mapping):
            return (f"customer {number} is {mine!r} in your copy; store a dict "
                    "{'city': ..., 'updated_at': ...}")
        city = mine.get("city")
        if city != row["city"]:
            return (f"customer {number} lives in {row['city']} in the source, but your copy says {city!r}: "
                    "when a pulled row is already in the copy, replace it (upsert), do not skip it")
        if mine.get("updated_at") != row["updated_at"]:
            return (f"customer {number} has updated_at {mine.get('updated_at')!r} in your copy, "
                    f"{row['updated_at']} in the source")
    return "your copy differs from the source"


@grader("l08_ex3_sync_customers", max_score=1)
def grade_sync_customers(sync_customers: Callable[[Any, dict, int], int]) -> str:
    """Pull after each change of a live source; the copy must match, and pulls must stay incremental."""
    assert callable(sync_customers), (
        "sync_customers should be a function (def sync_customers(conn, replica, watermark): ...), "
        f"not {type(sync_customers).__name__}."
    )
    source = ingestion.ChangingSource(START)
    replica: dict[int, Any] = {}
    watermark = 0
    for label, change in ROUNDS:
        before_change = source.clock
        change(source)
        changed_rows = sum(1 for row in source.snapshot().values() if row["updated_at"] > before_change)
        conn = source.connect()
        new_watermark = sync_customers(conn, replica, watermark)
        assert new_watermark is not None, (
            f"On {label} sync_customers returned None: return the new watermark (the largest updated_at you "
            "have pulled, or the old watermark when nothing changed)."
        )
        truth = source.snapshot()
        assert replica == truth or _same_rows(replica, truth), (
            f"On {label}: {_describe_difference(replica, truth)}."
        )
        assert new_watermark == max([watermark, *(r["updated_at"] for r in truth.values())]), (
            f"On {label} your watermark is {new_watermark!r}, expected the largest updated_at pulled so far "
            f"({max([watermark, *(r['updated_at'] for r in truth.values())])})."
        )
        boundary = sum(1 for row in truth.values() if row["updated_at"] == watermark)  # '>=' re-reads these
        if watermark and conn.wide_rows_read > changed_rows + boundary:
            raise AssertionError(
                f"On {label} your pull read {conn.wide_rows_read} full rows from the source, but only "
                f"{changed_rows} changed since the watermark: ask only for rows with updated_at > watermark "
                "(and for the deletes, list the keys only)."
            )
        watermark = new_watermark
    return (
        f"Through {len(ROUNDS)} pulls of a changing source your copy always matched it, with inserts, "
        "updates "
        "and deletes, and each pull transferred only what had changed."
    )


def _same_rows(replica: Mapping[Any, Any], truth: Mapping[int, Mapping[str, Any]]) -> bool:
    """The copy may keep extra fields (the key again, say); city and updated_at must match."""
    if set(replica) != set(truth):
        return False
    return all(isinstance(replica[n], Mapping) and replica[n].get("city") == row["city"]
               and replica[n].get("updated_at") == row["updated_at"] for n, row in truth.items())  # fmt: skip


# --- exercise 3: an idempotent SQS consumer ------------------------------------------------------

ORDERS = [10100 + n for n in range(22)]
DUPLICATED = (10103, 10110, 10117)
"""Orders a producer sent twice (it retried after a timeout): the consumer must handle each once."""


@grader("l08_ex2_consume_orders", max_score=1)
def grade_consume_orders(consume_orders: Callable[[Any, str], list[int]]) -> str:
    """Run the learner's consumer on a fresh queue of the target; check the result and the queue."""
    assert callable(consume_orders), (
        f"consume_orders should be a function (def consume_orders(sqs, queue_url): ...), not "
        f"{type(consume_orders).__name__}."
    )
    import boto3
    from botocore.exceptions import ClientError

    sqs = boto3.client("sqs")
    name = f"delab-lesson08-grader-{uuid.uuid4().hex[:10]}"
    url = queues.fresh_queue(sqs, name, visibility_timeout_s=60)
    try:
        messages = [{"orderNumber": n, "status": "In Process"} for n in ORDERS]
        messages += [{"orderNumber": n, "status": "In Process"} for n in DUPLICATED]
        queues.send_orders(sqs, url, messages)
        try:
            handled = consume_orders(sqs, url)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            hint = (" delete_message needs the ReceiptHandle of the delivery (message['ReceiptHandle']), not "
                    "the MessageId." if "Receipt" in code or "Receipt" in str(error) else "")  # fmt: skip
            raise AssertionError(f"Your consumer's call to SQS failed: {error}.{hint}") from None
        left = queues.messages_left(sqs, url)
    finally:
        sqs.delete_queue(QueueUrl=url)
    assert isinstance(handled, list | tuple | set | frozenset), (
        f"consume_orders should return the list of order numbers it handled, not {type(handled).__name__}."
    )
    handled = list(handled)
    if handled and isinstance(handled[0], Mapping | str) and not str(handled[0]).strip().isdigit():
        raise AssertionError(
            f"consume_orders returned {str(handled[0])[:80]}... as its first element: return the order "
            "numbers (json.loads(message['Body'])['orderNumber']), not the messages or their bodies."
        )
    handled = [int(n) for n in handled]
    twice = sorted({n for n in handled if handled.count(n) > 1})
    assert not twice, (
        f"You handled order(s) {twice} twice: they arrived twice (a producer's retry; a standard queue may "
        "also "
        "deliver a message more than once). Keep the order numbers you have handled and skip repeats."
    )
    missing = sorted(set(ORDERS) - set(handled))
    assert not missing, (
        f"You handled {len(set(handled))} of {len(ORDERS)} orders; {missing[:5]}... never came: "
        "receive_message "
        "returns at most 10 messages per call, so call it again until it returns none."
        if len(set(handled)) <= queues.MAX_MESSAGES_PER_RECEIVE
        else f"Orders {missing} were never handled."
    )
    assert left["in flight"] == 0 and left["waiting"] == 0, (
        f"{left['in flight']} message(s) were received but never deleted. Receiving does not remove a "
        "message: "
        "it only hides it for the visibility timeout, then SQS delivers it again and it would be handled "
        "again. After handling each message, call sqs.delete_message(QueueUrl=..., "
        "ReceiptHandle=message['ReceiptHandle'])."
        if left["in flight"]
        else f"{left['waiting']} message(s) are still waiting in the queue: keep receiving until it is empty."
    )
    return (
        f"Your consumer handled all {len(ORDERS)} orders once each (the {len(DUPLICATED)} duplicates "
        "skipped) "
        "and deleted every message it received: the queue is empty."
    )


# --- exercise 4: read by key in DynamoDB ---------------------------------------------------------


class _WatchedTable:
    """A DynamoDB Table that records how many items each Query or Scan read."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self.scanned = 0
        self.calls: list[str] = []

    def _watch(self, method: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(method)
            result = getattr(self._table, method)(*args, **kwargs)
            self.scanned += int(result.get("ScannedCount", 0))
            return result

        return call

    def __getattr__(self, name: str) -> Any:
        if name in ("query", "scan"):
            return self._watch(name)
        return getattr(self._table, name)


def _bulk_orders() -> list[dict[str, Any]]:
    """The sample orders plus 60 more of other customers, so that reading everything shows."""
    extra = [{"customerNumber": 200 + n % 20, "orderDate": f"2004-0{1 + n % 9}-1{n % 10}",
              "orderNumber": 11000 + n, "productCode": "S18_1589"} for n in range(60)]  # fmt: skip
    return keyvalue.sample_orders() + extra


@grader("l08_ex4_orders_of", max_score=1)
def grade_orders_of(orders_of: Callable[[Any, int], list[int]]) -> str:
    """``orders_of(table, customer)`` must return the customer's orders by date, reading only them."""
    assert callable(orders_of), (
        "orders_of should be a function (def orders_of(table, customer_number): ...), not "
        f"{type(orders_of).__name__}."
    )
    import boto3

    dynamodb = boto3.resource("dynamodb")
    name = f"delab-lesson08-grader-{uuid.uuid4().hex[:10]}"
    table = keyvalue.create_orders_table(dynamodb, name)
    try:
        keyvalue.put_orders(table, _bulk_orders())
        total = len(_bulk_orders())
        for customer in (114, 103, 119, 205, 999):  # 205's order numbers do not follow its dates
            expected = keyvalue.orders_of(table, customer)
            watched = _WatchedTable(table)
            got = orders_of(watched, customer)
            assert isinstance(got, list | tuple), (
                f"orders_of should return a list of order numbers, not {type(got).__name__}."
            )
            if got and isinstance(got[0], Mapping):
                raise AssertionError(
                    f"orders_of({customer}) returned whole items; return just their order numbers "
                    "([int(item['orderNumber']) for item in items])."
                )
            if "scan" in watched.calls:
                raise AssertionError(
                    f"For customer {customer} you scanned the table: {watched.scanned} items read (of "
                    f"{total}) to "
                    f"return {len(expected)}. A Scan reads every item; the table's partition key is "
                    "customerNumber, "
                    "so table.query(KeyConditionExpression=Key('customerNumber').eq(customer_number)) reads "
                    "only "
                    "that customer's items."
                )
            got_numbers = [int(n) for n in got]
            if sorted(got_numbers) == sorted(expected) and got_numbers != expected:
                raise AssertionError(
                    f"orders_of({customer}) has the right orders in the wrong order: {got_numbers}, expected "
                    f"{expected} (oldest first). A Query returns items sorted by the sort key, orderDate."
                )
            assert got_numbers or not expected, (
                f"orders_of({customer}) returned no orders, expected {expected}: the key condition matched "
                "nothing. Pass customer_number as you were given it, a number (the table's customerNumber "
                "is a number: '114' as text matches nothing)."
            )
            assert got_numbers == expected, (
                f"orders_of({customer}) returned {got_numbers}, expected {expected}."
            )
    finally:
        table.delete()
    return (
        "orders_of reads each customer's orders with a Query on the partition key: only that customer's "
        "items "
        "are read, already sorted by the sort key."
    )


declare(
    "08_source_systems_and_ingestion",
    grade_compare_schemas,
    grade_consume_orders,
    grade_sync_customers,
    grade_orders_of,
)
