"""Quiz for lesson 13: designing a data architecture.

Choices are written in the order learners see them (``rotate=False``), so the position of
each right answer is chosen on purpose and spread over a-d.
"""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: designing an architecture",
    (
        question(
            "Events reach Firehose at about 10 KB per second, with the default buffering for S3 "
            "(5 MiB or 300 s). How often does a new file land in S3?",
            ("About every minute", False,
             "A common belief, but the default interval is 300 s, and the buffer is not full sooner."),
            ("Every 300 s: the interval ends first", True,
             "5 MiB at 10 KB/s takes about 524 s to fill, so the 300 s interval triggers each write."),
            ("Every 524 s, when the buffer is full", False,
             "Firehose writes when EITHER limit is reached; the interval comes first here."),
            ("Once per event, as soon as it arrives", False,
             "Firehose buffers events into files; a consumer that needs each event reads the stream."),
            rotate=False,
        ),
        question(
            "Two small streaming jobs each need 1 KPU. Run as two Managed Service for Apache Flink "
            "applications, how many KPUs are billed every hour?",
            ("2: one per job", False,
             "That leaves out the orchestration KPU AWS adds to every application."),
            ("3: the jobs and one orchestration KPU", False,
             "The orchestration KPU is billed per application, not once per account."),
            ("4: each application adds one more", True,
             "1 + 1 per application; merged into one 2-KPU application, it would be 3."),
            ("1: small jobs share a KPU", False,
             "Applications do not share KPUs; each runs on its own."),
            rotate=False,
        ),
        question(
            "The lab's daily design must now also feed a churn model that data scientists retrain "
            "every week. Which part of the design changes?",
            ("Serving gains feature tables for training", True,
             "A new consumer needs its own way to be served; freshness and volume are unchanged."),
            ("Ingestion must become a stream from the database", False,
             "Weekly retraining is happy with daily data; streaming would add cost for nothing."),
            ("Storage must move into a warehouse", False,
             "The volume did not change; the lake holds training data well."),
            ("Nothing: the analysts' tables are enough", False,
             "Models need clean, versioned training sets, a different product from dashboards."),
            rotate=False,
        ),
        question(
            "Design A scores cost 5, freshness 2; design B cost 2, freshness 5. The weights are cost "
            "0.7 and freshness 0.3. What does the decision matrix say?",
            ("B wins: its best score is the highest", False,
             "The matrix weighs every criterion; one high score does not decide."),
            ("A tie: both add up to 7", False,
             "That is the unweighted sum; the weights are the stakeholders' priorities."),
            ("B wins, since fresher data is always better", False,
             "Only if stakeholders weight freshness that way; here cost weighs more."),
            ("A wins, 4.1 against 2.9", True,
             "0.7 x 5 + 0.3 x 2 = 4.1 and 0.7 x 2 + 0.3 x 5 = 2.9."),
            rotate=False,
        ),
        question(
            "Why does the five-minute design read MySQL's binlog (change data capture) instead of "
            "querying the tables every minute?",
            ("Kinesis can only take its data from a binlog", False,
             "Kinesis accepts records from any producer; the choice is about the source."),
            ("The binlog is already stored in S3", False,
             "The binlog lives on the database server; CDC reads it from there."),
            ("SQL cannot find rows changed in the last minute", False,
             "It can, with an update-time column; but a deleted row leaves nothing to find."),
            ("Polling loads the database and misses deletes", True,
             "CDC reads the committed changes from the log: no extra queries, deletes included."),
            rotate=False,
        ),
        question(
            "You changed the crawler's schedule in the Terraform files. Which command shows what "
            "would change, without changing anything?",
            ("terraform plan", True,
             "It compares the configuration with what exists and previews the changes."),
            ("terraform init", False,
             "init downloads the providers the configuration needs; it compares nothing."),
            ("terraform apply", False,
             "apply carries out the changes (after showing the plan and asking)."),
            ("terraform destroy", False,
             "destroy removes every resource the configuration manages."),
            rotate=False,
        ),
    ),
)
