"""Quiz for lesson 11: DataOps, orchestration, software engineering, AWS services."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: DataOps and orchestration",
    (
        question(
            "Why is an orchestration graph required to be acyclic?",
            ("So it looks tidy", False, "It is about correctness, not looks."),
            (
                "With a cycle no task could start: each would wait for another in the loop",
                True,
                "A DAG always has a valid order (a topological order); a cycle has none.",
            ),
            ("Because Airflow is written in Python", False, "The language has nothing to do with it."),
        ),
        question(
            "The extract task fails twice with a timeout, then succeeds on the third try. Which setting made "
            "that possible?",
            ("retries", True, "Retrying transient errors (timeouts, throttling) makes pipelines robust."),
            ("a cron schedule", False, "A schedule starts the run; it does not retry a failed task."),
            ("a bigger instance", False, "The source timed out; more CPU on your side would not help."),
        ),
        question(
            "A task fails after all its retries. What should happen to the tasks that depend on it?",
            (
                "Run anyway with whatever data is there",
                False,
                "They would publish incomplete or stale results.",
            ),
            (
                "Be skipped, and someone be alerted",
                True,
                "Skip downstream work and alert (e.g. CloudWatch alarm + SNS) so it is fixed before users "
                "notice.",
            ),
        ),
        question(
            "Which AWS service would you use to be e-mailed when a pipeline fails?",
            (
                "Amazon SNS (triggered by a CloudWatch alarm)",
                True,
                "CloudWatch watches metrics and logs; SNS sends the notification.",
            ),
            ("Amazon S3", False, "S3 stores objects; it does not notify people about pipeline failures."),
            ("AWS Glue Data Catalog", False, "The catalog stores metadata about tables."),
        ),
        question(
            "Which is a DataOps practice?",
            (
                "Testing and deploying pipeline code automatically (CI/CD)",
                True,
                "Automation, observability and incident response are DataOps' pillars.",
            ),
            (
                "Editing production jobs by hand late at night",
                False,
                "Manual, untested changes are what DataOps replaces.",
            ),
            (
                "Waiting for users to report broken dashboards",
                False,
                "Find issues before your stakeholders do.",
            ),
        ),
    ),
)
