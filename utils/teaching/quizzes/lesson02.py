"""Quiz for lesson 02: the lifecycle and its undercurrents, applied to new cases."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: the lifecycle",
    (
        question(
            "The mobile team renames the price field in the app database your pipeline reads; the next "
            "morning the dashboard shows wrong totals. Where did the problem start, and where was it felt?",
            (
                "It started in transformation and was felt in storage",
                False,
                "Your transformation ran as written and storage kept what it was given; the change came from "
                "outside your pipeline.",
            ),
            (
                "It started in ingestion and was felt in serving",
                False,
                "Ingestion only carried the renamed field in; the change was made by the source system's "
                "owners, before ingestion.",
            ),
            (
                "It started in generation and was felt in serving",
                True,
                "The source system (generation) changed, and the ripple surfaced at the last stage, where "
                "people read the dashboard.",
            ),
            (
                "It started and was felt in serving, where totals are made",
                False,
                "Serving is where the damage showed, not where it began: the dashboard's query did not "
                "change, its input did.",
            ),
            rotate=False,
        ),
        question(
            "The ETL job's database password moves from the script into Secrets Manager. Which description "
            "of that change fits the lifecycle best?",
            (
                "Security, an undercurrent, met during ingestion",
                True,
                "It happens where the job reads the source (ingestion), but what it protects is access: "
                "that is the security undercurrent.",
            ),
            (
                "Ingestion, since the job reads the source with it",
                False,
                "That is where it happens, not what it is about: the read itself is unchanged; who can "
                "learn the password is what changed.",
            ),
            (
                "Storage, since Secrets Manager keeps the password",
                False,
                "The storage stage keeps the pipeline's data; a secret store protecting credentials is "
                "a security tool.",
            ),
            (
                "Data management, since the secret describes the source",
                False,
                "Data management governs the data itself (quality, lineage, discoverability); a password "
                "controls access, which is security.",
            ),
            rotate=False,
        ),
        question(
            "Analysts query the star schema's Parquet files in S3 directly with Athena, with no separate "
            "serving copy. How does the lifecycle account for that?",
            (
                "It cannot: serving must first copy data out of storage",
                False,
                "Nothing requires a copy: a query engine reading stored tables in place is a common way "
                "to serve.",
            ),
            (
                "Athena turns S3 into transformation, so storage is skipped",
                False,
                "The files stay in storage; Athena reads them there. No stage is skipped by querying "
                "in place.",
            ),
            (
                "It breaks the lifecycle, whose stages form a strict line",
                False,
                "The lifecycle is not a strict line: storage sits under the middle stages and is read "
                "again and again.",
            ),
            (
                "Storage feeds serving directly: the arrow in the diagram",
                True,
                "The arrow from storage to serving is exactly this path: a query engine or dashboard "
                "reading stored tables.",
            ),
            rotate=False,
        ),
        question(
            "The source team drops the comments column of classicmodels' orders table. Using the lab's "
            "lineage from this lesson, which of these is NOT at risk?",
            (
                "dim_dates, the calendar of the order years",
                False,
                "dim_dates is built from orders (its first and last order dates), so a change in orders "
                "reaches it.",
            ),
            (
                "dim_products, the products and lines",
                True,
                "dim_products reads only products and productlines; nothing in its lineage goes through "
                "orders.",
            ),
            (
                "the dashboard's top-products chart",
                False,
                "The dashboard reads fact_orders, which reads orders: it is two steps downstream of "
                "the change.",
            ),
            (
                "fact_orders, one row per order line",
                False,
                "fact_orders joins orders directly (and even copies its comments column), so it is the "
                "first to break.",
            ),
            rotate=False,
        ),
    ),
)
