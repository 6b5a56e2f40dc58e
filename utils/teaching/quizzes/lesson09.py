"""Quiz for lesson 09: storage, queries, modelling and transformation.

Each question applies the lesson to a new case; every wrong option is a belief learners
really hold. Choices are written in their display order (``rotate=False``).
"""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: storage and transformation",
    (
        question(
            "A 50 GB table is read sequentially, once from a hard disk at 200 MB/s and once from an NVMe "
            "SSD at 3,000 MB/s. Roughly how long does each read take?",
            (
                "0.25 s from the disk and 0.017 s from the SSD",
                False,
                "That divides megabytes by gigabytes: 50 GB is 50,000 MB, so the times are a thousand "
                "times longer.",
            ),
            (
                "About the same: the bus limits both",
                False,
                "The media differ fifteenfold in sequential throughput; that is why SSDs cache hot data.",
            ),
            (
                "2,500 s from the disk, 170 s from the SSD",
                False,
                "Ten times too long: 50,000 MB / 200 MB/s is 250 s, not 2,500 s.",
            ),
            (
                "About 250 s from the disk, 17 s from the SSD",
                True,
                "50,000 MB / 200 MB/s = 250 s and 50,000 / 3,000 = about 17 s: the SSD is about 15 times "
                "faster for the same bytes.",
            ),
            rotate=False,
        ),
        question(
            "Logs move from S3 Standard to Deep Archive on day 30 and are deleted on day 60. For how long "
            "does Deep Archive bill each day's logs?",
            (
                "30 days: the time they spend there",
                False,
                "Deep Archive has a 180-day minimum storage duration: leaving earlier is still billed "
                "as 180 days.",
            ),
            (
                "180 days: its minimum storage duration",
                True,
                "An object deleted or moved before the minimum is billed for the rest of it, so this "
                "design pays 180 days for 30.",
            ),
            (
                "Nothing: data deleted within 90 days is free",
                False,
                "There is no free period; early deletion is charged, not waived.",
            ),
            (
                "60 days: billing starts at the object's creation",
                False,
                "Each class bills the time in that class (with its minimum); Standard already billed "
                "the first 30 days.",
            ),
            rotate=False,
        ),
        question(
            "A job overwrote yesterday's Parquet files with bad data. Had the table been an Iceberg table, "
            "what could you do?",
            (
                "Roll back to the snapshot before the bad write",
                True,
                "Writes add new files and a new snapshot; the previous snapshot's files are still there "
                "until snapshots are expired.",
            ),
            (
                "Nothing more: Iceberg would have rejected bad rows",
                False,
                "A table format manages files and snapshots; it does not validate business content.",
            ),
            (
                "Only restore from S3 versioning: formats keep current files",
                False,
                "Keeping old snapshots readable (time travel) is exactly what table formats add.",
            ),
            (
                "Re-run the crawler: the catalog keeps the old data",
                False,
                "A catalog stores metadata (schemas, locations), not previous versions of the data.",
            ),
            rotate=False,
        ),
        question(
            "A fact table has 3,008 rows for 2,996 source order lines: 0.4% off. What should you conclude?",
            (
                "Close enough: a 1% tolerance is normal for row counts",
                False,
                "A fact with a one-row-per-line grain must match exactly; a small net difference can hide "
                "large duplicates and losses.",
            ),
            (
                "Some customers placed the same order twice",
                False,
                "Duplicate orders would be in the source too; the source has 2,996 lines, the fact has "
                "more.",
            ),
            (
                "DuckDB counts rows with NULL keys twice",
                False,
                "COUNT(*) counts each row once; the extra rows come from the join.",
            ),
            (
                "The grain is broken: check distinct lines, revenue",
                True,
                "On the lab's data this fact counts hundreds of lines twice and misses hundreds of others; "
                "only distinct lines and totals show it.",
            ),
            rotate=False,
        ),
        question(
            "The dashboard inner-joins the fact to locations on postal code. Some customers have no "
            "postal code. What happens to their revenue?",
            (
                "It shows under an '(unknown)' country",
                False,
                "That is what a LEFT join would give (a NULL country); an inner join keeps no row for them.",
            ),
            (
                "The query fails on the NULL keys",
                False,
                "SQL raises no error: the rows just find no match, which is what makes the loss silent.",
            ),
            (
                "It vanishes: NULL = NULL is not true",
                True,
                "A NULL key matches nothing, so the inner join drops those order lines and their revenue "
                "without a word.",
            ),
            (
                "NULLs match each other, so it is counted several times",
                False,
                "In SQL, NULL = NULL is unknown, not true: NULL keys match nothing at all.",
            ),
            rotate=False,
        ),
        question(
            "To reconcile, a colleague joins the fact to orderdetails on (orderNumber, orderLineNumber) and "
            "compares SUM(orderAmount) with SUM(quantityOrdered * priceEach) over that join. Why can it "
            "miss an explosion?",
            (
                "It cannot: a join on the full key is safe",
                False,
                "The key is unique in orderdetails, not in a broken fact: each duplicate fact row drags "
                "a copy of its source line along.",
            ),
            (
                "The join copies source lines with each duplicate",
                True,
                "Both sums grow together, so they still agree; compute the source's totals from the "
                "source table alone.",
            ),
            (
                "SUM skips duplicate values",
                False,
                "SUM adds every row; only SUM(DISTINCT ...) skips repeated values.",
            ),
            (
                "orderAmount is rounded, so the two sums never match",
                False,
                "Amounts are exact to the cent; the flaw is that both sides are computed over the same "
                "multiplied rows.",
            ),
            rotate=False,
        ),
    ),
)
