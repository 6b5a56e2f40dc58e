"""Quiz for lesson 11: DataOps, orchestration, observability, AWS services.

Choices are written in the order learners see them (``rotate=False``), so the position of
each right answer is chosen on purpose and spread over a-d.
"""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: DataOps, orchestration and observability",
    (
        question(
            "In a pipeline, report waits for join; join waits for users and orders; orders waits "
            "for users. Which run order is valid?",
            ("users, join, orders, report", False,
             "join runs before orders, one of the two tasks it waits for."),
            ("report, join, orders, users", False,
             "That is the order reversed: each task comes before what it needs."),
            ("users, orders, join, report", True,
             "Each task comes after everything it waits for: a topological order."),
            ("users and orders at once, then join, then report", False,
             "orders waits for users, so the two cannot run at the same time."),
            rotate=False,
        ),
        question(
            "A task has 3 retries with exponential backoff from 10 s, and fails every time. How long "
            "does it wait in all before it gives up?",
            ("70 s: 10 + 20 + 40", True,
             "Three waits, one before each retry, each twice the previous; none after the last attempt."),
            ("30 s: 10 + 10 + 10", False,
             "That is a constant delay; backoff doubles the wait each time."),
            ("150 s: 10 + 20 + 40 + 80", False,
             "The 80 s wait would come after the last attempt, when nothing is retried any more."),
            ("60 s: 10 + 20 + 30", False,
             "That grows by a fixed step (linear); exponential backoff doubles it."),
            rotate=False,
        ),
        question(
            "Every task of last night's run is green, but the fact table gained half its usual rows. "
            "What catches this before the analysts do?",
            ("More retries on the extract task", False,
             "Nothing failed, so there is nothing to retry: retries only act on errors."),
            ("A CI check, before each deploy, that the task graph has no cycle", False,
             "The graph was fine; the data was not. CI checks code, not last night's rows."),
            ("Running the pipeline an hour later", False,
             "A later start changes nothing if the upstream export was cut short."),
            ("A monitor of rows per load against the table's history", True,
             "Observability on the data itself: half the usual rows is far outside the normal range."),
            rotate=False,
        ),
        question(
            "A team ships pipeline changes by hand once a quarter, after a week of manual testing. "
            "Which change follows the DevOps roots of DataOps?",
            ("Test for two weeks instead of one before each quarterly release", False,
             "Bigger, rarer releases make failures larger and later; DevOps went the other way."),
            ("Test every change automatically; ship small changes often", True,
             "Continuous integration and delivery: fast feedback on small, reversible changes."),
            ("Let only the most senior engineer deploy", False,
             "That creates a bottleneck; DevOps shares the responsibility for running what you build."),
            ("Ask stakeholders to report errors sooner", False,
             "DataOps incident response means finding problems before stakeholders do."),
            rotate=False,
        ),
        question(
            "Analysts may query every customer but never see phone numbers; the French sales team "
            "sees everything, for French customers only. What expresses both rules on the lake?",
            ("An IAM policy on the S3 bucket", False,
             "IAM on S3 grants whole objects; it cannot hide one column inside a Parquet file."),
            ("A security group around Athena", False,
             "Security groups filter network traffic; they know nothing of columns or rows."),
            ("Lake Formation column tags and a row filter", True,
             "Lake Formation grants columns (by LF-tag) and rows (data filters), and Athena enforces them."),
            ("Encrypting the table with a separate KMS key per team", False,
             "Whoever may decrypt a file sees every column and row in it; encryption is not access control."),
            rotate=False,
        ),
        question(
            "Cron starts the extract at 02:00 and the transform at 03:00. One night the extract "
            "takes 90 minutes. What happens?",
            ("The transform runs at 03:00 on partial data", True,
             "Cron knows times, not dependencies; an orchestrator would start it after the extract."),
            ("Cron waits for the extract, then runs the transform", False,
             "Cron has no idea the two jobs are related; it only watches the clock."),
            ("The database locks the tables, so it is safe", False,
             "Locks protect single statements, not a pipeline's order."),
            ("The transform fails, and cron retries it", False,
             "Cron does not retry; it runs again at the next scheduled time."),
            rotate=False,
        ),
    ),
)
