"""Quiz for lesson 08: source systems and ingestion.

Each question applies the lesson to a new case; every wrong option is a belief learners
really hold. Choices are written in their display order (``rotate=False``).
"""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: sources and ingestion",
    (
        question(
            "In Tuesday's 5,000-row extract, a new column 'email' first appears in row 2,000, and 'state' "
            "is NULL in every row. A check compares only row 1 with Monday's columns and types. What "
            "does it report?",
            (
                "Nothing, although a column was added",
                True,
                "Row 1 has no email, so the check never sees it; and an all-NULL state is no type "
                "change. Collect columns and types over all rows.",
            ),
            (
                "email added, and state retyped to NoneType",
                False,
                "A first-row check cannot see email; and NULL says nothing about a column's type, so "
                "it must not count as a change.",
            ),
            (
                "email added; nothing else changed",
                False,
                "That is what a check over ALL rows reports; looking at row 1 alone misses email.",
            ),
            (
                "state removed, since all its values are NULL",
                False,
                "The column is still there, with NULL values; NULLs are data, not a missing column.",
            ),
            rotate=False,
        ),
        question(
            "A worker receives an SQS message, writes the order to the warehouse, then crashes before "
            "calling delete_message. What happens next?",
            (
                "Nothing more: receiving removed it from the queue",
                False,
                "Receiving only hides a message for the visibility timeout; it leaves the queue only "
                "when a consumer deletes it.",
            ),
            (
                "SQS notices the crash and hands it to another worker at once",
                False,
                "SQS does not watch workers; the message becomes visible again only when its "
                "visibility timeout ends.",
            ),
            (
                "It returns after the timeout; the order may be saved twice",
                True,
                "Undeleted messages are delivered again; consumers must be idempotent, e.g. skip an "
                "order already written.",
            ),
            (
                "It stays hidden until an operator releases it",
                False,
                "Hiding lasts only the visibility timeout (a dead-letter queue takes it only after "
                "a set number of receives, if one is configured).",
            ),
            rotate=False,
        ),
        question(
            "The orders team offers to push every change to your stream, instead of you querying their "
            "database every hour. What changes for their system?",
            (
                "It sends each change, and resends it when you are down",
                True,
                "Push moves the delivery work onto the source: it must send each change and keep and "
                "resend what failed.",
            ),
            (
                "Its load disappears: push moves all the work to your side",
                False,
                "The source still produces and sends every change; only the hourly queries go away.",
            ),
            (
                "Nothing: only your freshness improves",
                False,
                "Freshness improves, but the source now runs the sending, and its failures are its "
                "problem too.",
            ),
            (
                "Its database is queried more, once per change",
                False,
                "Nobody queries it under push; the source sends instead of being asked.",
            ),
            rotate=False,
        ),
        question(
            "Your hourly pull asks for rows with updated_at > watermark. A customer is deleted at 10:15. "
            "What does your copy show after the 11:00 pull?",
            (
                "The customer is gone: the pull sees the delete as a change",
                False,
                "A deleted row no longer exists, so no query on updated_at can return it.",
            ),
            (
                "Still there until its updated_at passes the watermark",
                False,
                "Its updated_at is gone with the row; nothing will ever pass the watermark for it.",
            ),
            (
                "Still there, but pulling with >= instead of > fixes it",
                False,
                "'>=' only re-reads rows stamped at the watermark; a deleted row is still invisible.",
            ),
            (
                "Still there, until keys are compared or CDC reads the log",
                True,
                "Deletes leave nothing to pull: compare your keys with the source's, or read the "
                "delete from the database's change log.",
            ),
            rotate=False,
        ),
        question(
            "An app's DynamoDB table has partition key customerNumber. Marketing wants all orders of one "
            "product. What does that take?",
            (
                "A Query by product, as cheap as one by customer",
                False,
                "A Query needs the partition key; productCode is not a key of this table.",
            ),
            (
                "A Scan of every item, unless an index was built for it",
                True,
                "DynamoDB answers fast only the questions its keys (or secondary indexes) were designed "
                "for; in SQL the same question is a WHERE clause.",
            ),
            (
                "Nothing possible: DynamoDB returns items by key only",
                False,
                "Scan exists: it reads the whole table and filters, which works but costs time and "
                "read capacity.",
            ),
            (
                "The same as SQL: any database reads every row to filter",
                False,
                "A relational database can use an index on the filtered column, added any time; "
                "DynamoDB needs the access pattern planned.",
            ),
            rotate=False,
        ),
        question(
            "Data must be at most 60 minutes old when analysts see it; the job takes 10 minutes. Which is "
            "the cheapest schedule that meets it?",
            (
                "Hourly: 60 minutes is exactly the limit set",
                False,
                "An event just after a run waits almost an hour, plus the 10-minute run: about 70 "
                "minutes in the worst case.",
            ),
            (
                "Only streaming can promise a bound",
                False,
                "Batch has a worst case you can compute; streaming meets the need too, but at a higher "
                "running cost.",
            ),
            (
                "Every 45 minutes: 45 + 10 = 55 at worst",
                True,
                "The worst case is the interval plus the run time; 45 + 10 stays under 60 with room "
                "to spare.",
            ),
            (
                "Daily, with a note on the dashboard",
                False,
                "A daily batch is up to a day old; a note does not change the requirement.",
            ),
            rotate=False,
        ),
    ),
)
