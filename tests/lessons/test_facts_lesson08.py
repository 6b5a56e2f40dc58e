"""Lesson 08's facts and figures (issue 14): what the lesson computes and states, tested."""

from __future__ import annotations

import json

import nbformat
import pytest

from tests.lessons.quiz_checks import assert_quiz_balanced
from utils.concepts import ingestion, queues
from utils.teaching.exercises import LESSON_SOLUTIONS
from utils.teaching.quizzes import get_quiz

LESSON = LESSON_SOLUTIONS / "08_source_systems_and_ingestion.ipynb"


def _lesson_text() -> str:
    return "\n".join(c.source for c in nbformat.read(LESSON, as_version=4).cells)


# --- SQS: a message is gone only when deleted; it may come again ---------------------------------


def test_an_sqs_message_is_not_gone_until_it_is_deleted(local_cloud):
    import boto3

    sqs = boto3.client("sqs")
    url = queues.fresh_queue(sqs, "facts-l08-visibility", visibility_timeout_s=30)
    try:
        queues.send_orders(sqs, url, [{"orderNumber": 10100}])
        first = sqs.receive_message(QueueUrl=url)["Messages"][0]  # received, not deleted: in flight
        assert queues.messages_left(sqs, url) == {"waiting": 0, "in flight": 1}
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
        again = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
        assert again["MessageId"] == first["MessageId"]  # the same message, delivered again
        assert again["Attributes"]["ApproximateReceiveCount"] == "2"
        sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
        assert queues.messages_left(sqs, url) == {"waiting": 0, "in flight": 0}
        assert "Messages" not in sqs.receive_message(QueueUrl=url)
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_the_reference_consumer_is_idempotent_and_empties_the_queue(local_cloud):
    import boto3

    sqs = boto3.client("sqs")
    url = queues.fresh_queue(sqs, "facts-l08-consumer")
    try:
        orders = [{"orderNumber": n} for n in [*range(10100, 10125), 10103, 10103]]
        queues.send_orders(sqs, url, orders)
        handled = queues.consume_orders(sqs, url)
        assert sorted(handled) == list(range(10100, 10125))
        assert queues.messages_left(sqs, url) == {"waiting": 0, "in flight": 0}
    finally:
        sqs.delete_queue(QueueUrl=url)
    assert json.dumps({"orderNumber": 1})  # bodies are JSON, as the exercise states


def test_the_lesson_no_longer_says_a_handled_message_disappears():
    text = _lesson_text()
    assert "a message disappears once a worker has handled it" not in text
    assert "**deletes** it" in text and "at least once" in text


# --- push moves the work onto the source ---------------------------------------------------------


def test_push_moves_the_work_onto_the_source():
    changes = ingestion.event_minutes(200, seed=42)
    pull = ingestion.source_work(changes, pattern="pull", every_minutes=60)
    push = ingestion.source_work(changes, pattern="push", receiver_down=(600, 660))
    assert pull == {"queries answered": 24, "rows returned": 200, "messages sent": 0, "resends": 0}
    assert push["messages sent"] == 200 and push["queries answered"] == 0
    assert push["resends"] == sum(600 <= t < 660 for t in changes) > 0
    assert ingestion.source_work(changes, pattern="pull", every_minutes=1)["queries answered"] == 1440
    with pytest.raises(ValueError):
        ingestion.source_work(changes, pattern="poll")


def test_the_lesson_no_longer_says_push_takes_load_off_the_source():
    text = _lesson_text()
    assert "takes load off the source" not in text
    assert "moves the work onto it" in text


# --- snapshots, incremental pulls ----------------------------------------------------------------


def test_schema_changes_over_whole_snapshots():
    monday, tuesday = ingestion.customer_snapshots()
    assert ingestion.schema_changes(monday, tuesday) == {
        "added": ["customer_name", "email"], "removed": ["customerName"],
        "retyped": {"creditLimit": ("float", "float|str")},
    }
    assert ingestion.column_types([{"a": None}, {"a": None}]) == {"a": ""}


def test_the_incremental_sync_catches_updates_and_deletes_and_reads_only_changes():
    source = ingestion.ChangingSource([(103, "Nantes"), (112, "Las Vegas"), (114, "Melbourne")])
    replica: dict = {}
    mark = ingestion.incremental_sync(source.connect(), replica, 0)
    source.update(112, "Reno")
    source.delete(114)
    conn = source.connect()
    mark = ingestion.incremental_sync(conn, replica, mark)
    assert replica == source.snapshot() and mark == 4
    assert conn.wide_rows_read == 1 and conn.rows_read == 1 + 2  # one changed row, two keys
    with pytest.raises(PermissionError):
        conn.execute("DELETE FROM customers")


def test_quiz_is_balanced():
    assert_quiz_balanced(get_quiz(8))
