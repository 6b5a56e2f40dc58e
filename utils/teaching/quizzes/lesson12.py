"""Quiz for lesson 12: principles of good data architecture."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: architecture principles",
    (
        question(
            "Two independent replicas, each available 99%, where either is enough. Overall availability?",
            ("98%", False, "That is two parts in series (both must work); replicas are in parallel."),
            ("99%", False, "Adding a replica improves availability."),
            ("99.99%", True, "Both must fail at once: 1 - 0.01 x 0.01 = 0.9999."),
        ),
        question(
            "A queue between the web shop and the analytics consumer is an example of...",
            (
                "Loose coupling",
                True,
                "The shop keeps working when the consumer is down; events wait in the queue.",
            ),
            (
                "Tight coupling",
                False,
                "Tight coupling is a direct call that fails when the other side fails.",
            ),
            ("FinOps", False, "FinOps is about cost; this is about independence between parts."),
        ),
        question(
            "Which decision is easiest to reverse?",
            ("Signing a 3-year hardware contract", False, "A long commitment is a one-way door."),
            (
                "Writing data as open Parquet files in object storage",
                True,
                "Open formats can be read by many engines, so you can change tools later cheaply.",
            ),
            (
                "Storing data in a proprietary format only one vendor reads",
                False,
                "Leaving means converting everything.",
            ),
        ),
        question(
            "Athena bills by bytes scanned. Which change cuts the cost of a query reading 3 of 20 columns "
            "the most?",
            ("Storing the table as CSV", False, "CSV is a row format: every query scans every column."),
            (
                "Storing the table as compressed Parquet",
                True,
                "Columnar + compressed: only 3 columns are read, and fewer bytes.",
            ),
            ("Running the query twice", False, "That doubles the cost."),
        ),
        question(
            "'Architecture is leadership' means a data architect...",
            ("Chooses every tool personally", False, "Dictating tools is not leadership."),
            (
                "Guides and mentors the team towards good decisions",
                True,
                "Architects lead by explaining trade-offs and growing the team's judgement.",
            ),
            ("Avoids talking to the business", False, "Architecture starts from business needs."),
        ),
    ),
)
