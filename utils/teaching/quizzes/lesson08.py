"""Quiz for lesson 08: source systems and ingestion."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: sources and ingestion",
    (
        question(
            "The orders team renamed a column overnight. What protects your pipeline best?",
            ("Hoping it does not happen again", False, "Sources change; plan for it."),
            (
                "A schema check at ingestion plus a relationship with the source owners",
                True,
                "Detect drift before it spreads downstream, and ask owners to tell you about changes in "
                "advance.",
            ),
            ("Reading every column as text", False, "That hides the problem until a report is wrong."),
        ),
        question(
            "Which ingestion pattern suits a dashboard refreshed every morning?",
            ("Batch", True, "A nightly batch is simple and cheap and meets a daily freshness requirement."),
            (
                "Streaming",
                False,
                "Streaming would work but costs more to run and maintain than the need justifies.",
            ),
        ),
        question(
            "Why can't an incremental pull on `updated_at` see deleted rows?",
            (
                "Deleted rows have no updated_at to compare: they are simply gone",
                True,
                "Only rows that still exist can be selected; log-based CDC reads the delete from the "
                "database's log.",
            ),
            ("Because updated_at is a string", False, "The type is not the issue."),
            ("It can see them", False, "Try it in the lesson: the deleted customer never shows up."),
        ),
        question(
            "In push-based ingestion...",
            (
                "Your pipeline asks the source for data on a schedule",
                False,
                "That is pull: your side asks, on its own schedule.",
            ),
            (
                "The source sends data to your pipeline when it has some",
                True,
                "The source pushes (e.g. events to a stream or queue); in pull, you query the source.",
            ),
        ),
    ),
)
