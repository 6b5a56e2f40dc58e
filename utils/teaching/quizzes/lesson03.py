"""Quiz for lesson 03: a short history."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: history",
    (
        question(
            "Which came first?",
            ("Hadoop", False, "Hadoop appeared in 2006, decades after relational databases."),
            (
                "The relational model and SQL",
                True,
                "Codd's relational model (1970) and SQL (mid-1970s) are the foundation everything else built "
                "on.",
            ),
            ("Cloud data warehouses", False, "Cloud warehouses such as Redshift arrived around 2012."),
        ),
        question(
            "What problem did MapReduce and Hadoop address?",
            (
                "Processing data too big for one machine by spreading work over many cheap ones",
                True,
                "Web-scale data outgrew single servers; MapReduce split the work across a cluster.",
            ),
            (
                "Making SQL easier to write",
                False,
                "MapReduce jobs were harder to write than SQL, not easier.",
            ),
            ("Drawing dashboards", False, "That is business intelligence, from the warehouse era."),
        ),
        question(
            "Inmon and Kimball are known for...",
            ("Inventing the cloud", False, "The public cloud came from companies like Amazon in 2006."),
            (
                "Approaches to modelling data warehouses",
                True,
                "Inmon's enterprise warehouse and Kimball's dimensional (star-schema) modelling are still in "
                "use.",
            ),
            ("Streaming platforms", False, "Streaming platforms such as Kafka came later (2011)."),
        ),
        question(
            "What changed most when cloud platforms arrived?",
            (
                "Data stopped needing to be modelled",
                False,
                "Modelling still matters; the star schema is in your lab.",
            ),
            (
                "Infrastructure could be rented on demand instead of bought up front",
                True,
                "Pay-as-you-go compute and storage let small teams build systems that once needed a data "
                "centre.",
            ),
            (
                "SQL was replaced",
                False,
                "SQL is more popular than ever, including in cloud services like Athena.",
            ),
        ),
    ),
)
