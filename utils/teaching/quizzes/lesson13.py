"""Quiz for lesson 13: designing a data architecture."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: designing an architecture",
    (
        question(
            "Where does a good design start?",
            (
                "With the newest tools",
                False,
                "Tools are chosen to meet requirements, not the other way round.",
            ),
            (
                "With the stakeholders' requirements",
                True,
                "Requirements (freshness, volume, users, budget) drive every choice.",
            ),
            ("With the cheapest option", False, "Cheapest is a trade-off to weigh, not a starting point."),
        ),
        question(
            "The analysts' requirement changes from 'daily' to 'within 5 minutes'. What changes in the "
            "proposed design?",
            ("Nothing", False, "Freshness decides the ingestion pattern."),
            (
                "Change data capture reads MySQL's change log into a stream, a streaming job transforms it, "
                "and the always-on parts raise the cost",
                True,
                "A database emits no events, so CDC (AWS DMS or Debezium) turns its commits into a stream; "
                "the replication instance and the streaming transform run around the clock, which is "
                "where the cost goes.",
            ),
            (
                "Kinesis and Firehose are added and read the MySQL tables directly",
                False,
                "Kinesis does not read databases: something must capture the changes and put them on the "
                "stream. That is change data capture.",
            ),
            ("The source database changes", False, "The source is given; you adapt to it."),
        ),
        question(
            "In the lab, what does the Glue crawler do?",
            ("Moves data from MySQL to S3", False, "That is the Glue ETL job."),
            (
                "Reads the files in S3 and writes their table schemas into the Data Catalog",
                True,
                "The catalog is what lets Athena query the Parquet files as tables.",
            ),
            ("Draws the dashboard", False, "The dashboard is a notebook with widgets that queries Athena."),
        ),
        question(
            "What does 'terraform plan' do?",
            ("Creates the resources", False, "That is 'terraform apply'."),
            (
                "Shows what would change to reach the declared configuration, without changing anything",
                True,
                "Plan compares desired and current state and previews the actions; apply carries them out.",
            ),
            ("Downloads the providers", False, "That is 'terraform init'."),
        ),
    ),
)
