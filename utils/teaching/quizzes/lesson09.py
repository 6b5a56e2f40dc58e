"""Quiz for lesson 09: storage, queries, modelling and transformation."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: storage and transformation",
    (
        question(
            "Which raw storage ingredient is fastest but loses its data when the power goes off?",
            ("HDD", False, "Magnetic disks keep data without power and are the slowest of the three."),
            ("SSD", False, "SSDs keep data without power."),
            (
                "RAM",
                True,
                "Memory is volatile and costs tens of times more per GB than SSD, but it is fastest.",
            ),
        ),
        question(
            "A fact table joined to locations on postal code has more rows than the source has order lines. "
            "Why?",
            ("DuckDB has a bug", False, "The database did exactly what the SQL asked."),
            (
                "A postal code matches several locations, so each order line is repeated",
                True,
                "Joining on a non-key multiplies rows: the grain is broken and revenue is inflated.",
            ),
            ("Some customers have no orders", False, "Customers without orders add no order lines."),
        ),
        question(
            "What does the dashboard's INNER join on postal code do to a customer whose postal code is NULL?",
            ("Counts them twice", False, "NULL matches nothing, so they are not duplicated."),
            (
                "Drops their revenue silently",
                True,
                "NULL never equals anything in SQL, so the inner join discards the rows.",
            ),
            ("Raises an error", False, "SQL does not complain; that is what makes it dangerous."),
        ),
        question(
            "What is a data lakehouse?",
            ("A warehouse on a lake shore", False, "It is an architecture, not a building."),
            (
                "Lake storage with warehouse features such as tables, schemas and transactions",
                True,
                "It combines cheap object storage with the structure and reliability of a warehouse.",
            ),
            (
                "A backup of a database",
                False,
                "Backups are copies; a lakehouse is where you store and query data.",
            ),
        ),
        question(
            "Which is the best check to run after building a fact table?",
            (
                "Look at the first 5 rows",
                False,
                "The first rows can look fine while duplicates hide further down.",
            ),
            (
                "Reconcile row counts and revenue totals with the source",
                True,
                "Reconciliation proves the grain (one row per order line) and that no money appeared or "
                "vanished.",
            ),
            ("Check the file size", False, "Size says nothing about correctness."),
        ),
    ),
)
