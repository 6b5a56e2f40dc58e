"""The graders of the test lab ``sample_lab`` (tests/data/teaching/sample_solution.ipynb), declared.

The notebook defines the same graders inline for the learner's own feedback; the gradebook
grades with these, outside the kernel (``--graders tests.teaching.attacks.sample_graders``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from utils.teaching.grading import grader
from utils.teaching.registry import declare

ORDERS = [
    {"customer": "Atelier", "quantity": 2, "price": 50.0},
    {"customer": "Baane", "quantity": 1, "price": 150.0},
    {"customer": "Atelier", "quantity": 1, "price": 100.0},
]


def run_sql(sql: str) -> list[Any]:
    """Run the learner's SQL on a fresh in-memory copy of the orders."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE orders (customer TEXT, quantity INTEGER, price REAL)")
    connection.executemany("INSERT INTO orders VALUES (:customer, :quantity, :price)", ORDERS)
    return connection.execute(sql).fetchall()


@grader("ex1_total_revenue", max_score=1)
def check_total_revenue(total_revenue: Any) -> str:
    """The orders' total: 350."""
    assert isinstance(total_revenue, int | float), (
        f"total_revenue should be a number, not {type(total_revenue).__name__}."
    )
    assert total_revenue == 350, (
        f"total_revenue is {total_revenue}, expected 350: multiply quantity by price for each order, "
        "then add them up."
    )
    return "Right: the orders are worth 350 in total."


@grader("ex2_revenue_by_customer", max_score=2)
def check_revenue_by_customer(revenue_by_customer_sql: Any) -> str:
    """One row per customer, ordered by name."""
    rows = run_sql(revenue_by_customer_sql)
    expected = [("Atelier", 200.0), ("Baane", 150.0)]
    assert rows == expected, (
        f"Your query returned {rows}; expected {expected} (GROUP BY customer, ORDER BY customer)."
    )
    return "Right: one row per customer, ordered by name."


declare("sample_lab", check_total_revenue, check_revenue_by_customer)
