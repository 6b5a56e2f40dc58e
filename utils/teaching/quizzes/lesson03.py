"""Quiz for lesson 03: a short history (each question applies an era's idea to a new case)."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: history",
    (
        question(
            "In 1990 a retailer's monthly sales reports slow down its checkout database. Which idea of "
            "that time solves it?",
            (
                "Copy the sales data nightly into a separate store for analysis",
                True,
                "That is the data warehouse: analysis runs on its own copy, so the reports no longer compete "
                "with checkout for the same database.",
            ),
            (
                "Spread the reports over a cluster of cheap machines working in parallel",
                False,
                "MapReduce-style clusters came in the 2000s, for data too big for one machine; here the "
                "problem is two workloads sharing one database, not size.",
            ),
            (
                "Add indexes to the order tables so the report queries finish sooner",
                False,
                "Indexes can speed some reports, but every index slows each insert, and the reports still "
                "run on the server that takes the sales.",
            ),
            (
                "Stream each sale as an event so reports read the stream instead",
                False,
                "Event streaming (Kafka, 2011) came two decades later and answers freshness, not the load "
                "that reports put on the order system.",
            ),
            rotate=False,
        ),
        question(
            "Two pages of a course disagree: one puts the 2006 launch of S3 in the web era, the other opens "
            "the cloud era with it. What prevents this kind of disagreement for good?",
            (
                "Write each era's end year carefully by hand wherever the era appears",
                False,
                "Copies typed by hand drift apart sooner or later; that is exactly how the two pages came to "
                "disagree.",
            ),
            (
                "Let neighbouring eras overlap by a year so a borderline event fits both",
                False,
                "Then a year belongs to two eras and every lookup needs a tie-break: the ambiguity is built "
                "in instead of removed.",
            ),
            (
                "Keep one table of era start years and compute every boundary from it",
                True,
                "One source of truth: the table, the timeline, the headings and the lookup all derive from "
                "the same start years, so they cannot disagree.",
            ),
            (
                "Round every milestone to its decade before placing it on the timeline",
                False,
                "2006 becomes 'the 2000s', which still straddles two eras; rounding hides the boundary "
                "instead of fixing it.",
            ),
            rotate=False,
        ),
        question(
            "A team builds a star schema for sales now and plans one for inventory next quarter, each a fact "
            "table with its dimensions. Whose approach are they following?",
            (
                "Inmon's: one normalised enterprise warehouse, with marts fed from it",
                False,
                "Inmon starts from one integrated, normalised warehouse for the whole company; this team "
                "models one process at a time instead.",
            ),
            (
                "Kimball's: dimensional models built one business process at a time",
                True,
                "Facts surrounded by dimensions, grown process by process (bottom-up) is Kimball's "
                "dimensional modelling, the shape of the lab's star schema.",
            ),
            (
                "Codd's: the relational model, which star schemas were made to replace",
                False,
                "A star schema does not replace the relational model: its facts and dimensions are ordinary "
                "relational tables queried with SQL.",
            ),
            (
                "Google's: splitting the warehouse over many cheap machines (MapReduce)",
                False,
                "MapReduce is about processing data too big for one machine; it says nothing about how to "
                "model facts and dimensions.",
            ),
            rotate=False,
        ),
        question(
            "In 2004 a web company's click logs outgrow any single server, and one machine needs days to "
            "scan a day of them. Which idea of the 1998-2005 era answers this?",
            (
                "Buy one bigger and faster server with a better SQL engine",
                False,
                "Scaling up one machine hits a ceiling and its price climbs steeply; the logs kept growing "
                "faster than any single server.",
            ),
            (
                "Copy the logs into a data warehouse so analysis leaves the web servers",
                False,
                "A warehouse separates analysis from operations, but one warehouse server still cannot scan "
                "data of this size in time.",
            ),
            (
                "Rent servers by the hour from a cloud provider instead of buying them",
                False,
                "Renting servers only became possible in 2006 (EC2), and renting alone does not split one "
                "job across machines.",
            ),
            (
                "Split the data and the work over many cheap machines in parallel",
                True,
                "That is the idea of GFS (2003) and MapReduce (2004), brought to everyone by Hadoop: scale "
                "out over commodity machines.",
            ),
            rotate=False,
        ),
        question(
            "A three-person startup in 2008 needs 50 TB of storage for one month of analysis, then nothing. "
            "What had the cloud changed for them?",
            (
                "Their data no longer needs modelling before it is analysed",
                False,
                "Modelling still matters in the cloud: the lab builds a star schema on S3 so that its "
                "queries are simple and correct.",
            ),
            (
                "They must stop using SQL, which cloud storage cannot query",
                False,
                "SQL thrived in the cloud: Redshift (2012) and Athena (2016) both answer SQL over data kept "
                "in the cloud.",
            ),
            (
                "They rent storage per gigabyte-month, only while they need it",
                True,
                "Pay-as-you-go (S3, 2006) turned a data-centre purchase into a monthly bill that ends when "
                "the work ends.",
            ),
            (
                "Their dashboards become real-time because the data sits in the cloud",
                False,
                "Where data is stored does not decide how fresh it is; freshness comes from how often the "
                "pipeline moves and transforms it.",
            ),
            rotate=False,
        ),
    ),
)
