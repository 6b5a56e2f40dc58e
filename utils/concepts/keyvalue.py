"""A key-value store for real: Amazon DynamoDB on the target (the local cloud, or AWS).

DynamoDB finds items by key, fast at any size, and that is the deal: you design the keys
for the questions you will ask. ``orders`` below has the partition key ``customerNumber``
and the sort key ``orderDate``, so "one customer's orders, by date" is a ``Query`` that reads
only that customer's items. A question the keys do not serve ("all orders of a product")
needs a ``Scan`` that reads the whole table, or a second index built for it; in a relational
database the same question is just another ``WHERE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

KEY_SCHEMA = [
    {"AttributeName": "customerNumber", "KeyType": "HASH"},  # partition key
    {"AttributeName": "orderDate", "KeyType": "RANGE"},  # sort key
]


def create_orders_table(dynamodb: Any, name: str) -> Any:
    """Create (or recreate, empty) an on-demand ``orders`` table keyed as above; return the Table."""
    existing = dynamodb.meta.client.list_tables()["TableNames"]
    if name in existing:
        dynamodb.Table(name).delete()
        dynamodb.meta.client.get_waiter("table_not_exists").wait(TableName=name)
    table = dynamodb.create_table(
        TableName=name,
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=[
            {"AttributeName": "customerNumber", "AttributeType": "N"},
            {"AttributeName": "orderDate", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    table.wait_until_exists()
    return table


def put_orders(table: Any, orders: Iterable[dict[str, Any]]) -> int:
    """Write the orders (dicts with customerNumber, orderDate, orderNumber...); return how many."""
    count = 0
    with table.batch_writer() as batch:
        for order in orders:
            batch.put_item(Item=order)
            count += 1
    return count


def sample_orders() -> list[dict[str, Any]]:
    """A dozen orders of four classicmodels customers (numbers, dates and products as in the source)."""
    rows = [
        (103, "2003-05-20", 10123, "S18_1589"), (103, "2004-09-27", 10298, "S10_2016"),
        (103, "2004-11-25", 10345, "S24_2022"), (112, "2003-05-20", 10124, "S18_1749"),
        (112, "2004-09-09", 10278, "S10_1678"), (112, "2004-11-29", 10346, "S18_1589"),
        (114, "2003-04-29", 10120, "S10_2016"), (114, "2003-05-21", 10125, "S18_1097"),
        (114, "2004-09-08", 10223, "S18_1589"), (114, "2004-11-17", 10342, "S24_2022"),
        (119, "2003-01-31", 10103, "S12_1099"), (119, "2004-11-15", 10341, "S10_1678"),
    ]  # fmt: skip
    return [{"customerNumber": c, "orderDate": d, "orderNumber": n, "productCode": p} for c, d, n, p in rows]


def orders_of(table: Any, customer_number: int) -> list[int]:
    """The reference answer: one customer's order numbers, oldest first, by a Query on the key."""
    from boto3.dynamodb.conditions import Key

    items = table.query(KeyConditionExpression=Key("customerNumber").eq(customer_number))["Items"]
    return [int(item["orderNumber"]) for item in items]
