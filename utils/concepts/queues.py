"""A work queue for real: Amazon SQS on the target (the local cloud, or AWS).

What the lesson shows with real calls: a message a consumer receives is not gone, only
hidden for the queue's *visibility timeout*; it disappears when the consumer deletes it
with the receipt handle of that delivery, and comes back to be delivered again if the
consumer does not. A standard queue also delivers *at least once*, and producers retry,
so a consumer must be idempotent: handling the same order twice must do no harm.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

MAX_MESSAGES_PER_RECEIVE = 10
"""``ReceiveMessage`` returns at most 10 messages per call."""


def fresh_queue(sqs: Any, name: str, visibility_timeout_s: int = 30) -> str:
    """Create (or reuse) the queue ``name``, empty it, and return its URL (idempotent)."""
    from botocore.exceptions import ClientError

    attributes = {"VisibilityTimeout": str(visibility_timeout_s)}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    try:
        sqs.purge_queue(QueueUrl=url)
    except ClientError as error:  # AWS allows one purge a minute per queue: empty it by hand instead
        if "PurgeQueueInProgress" not in error.response.get("Error", {}).get("Code", ""):
            raise
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return url


def send_orders(sqs: Any, queue_url: str, orders: Iterable[dict[str, Any]]) -> int:
    """Send one JSON message per order; return how many were sent."""
    sent = 0
    for order in orders:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(order))
        sent += 1
    return sent


def messages_left(sqs: Any, queue_url: str) -> dict[str, int]:
    """How many messages wait (visible) and how many are received but not yet deleted (in flight)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {"waiting": int(attributes["ApproximateNumberOfMessages"]),
            "in flight": int(attributes["ApproximateNumberOfMessagesNotVisible"])}  # fmt: skip


def consume_orders(sqs: Any, queue_url: str) -> list[int]:
    """The reference consumer: handle every order once, delete every message; return the orders handled."""
    handled: list[int] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=MAX_MESSAGES_PER_RECEIVE)
        messages: Sequence[dict[str, Any]] = batch.get("Messages", [])
        if not messages:
            return handled
        for message in messages:
            order = json.loads(message["Body"])["orderNumber"]
            if order not in handled:  # a duplicate delivery or a producer's retry: already done
                handled.append(order)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
