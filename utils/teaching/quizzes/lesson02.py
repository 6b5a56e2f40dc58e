"""Quiz for lesson 02: the lifecycle and its undercurrents."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: the lifecycle",
    (
        question(
            "What is the order of the lifecycle stages?",
            (
                "Ingestion, generation, transformation, storage, serving",
                False,
                "Data must be generated before it can be ingested.",
            ),
            (
                "Generation, ingestion, transformation, serving, with storage underneath",
                True,
                "Data is generated, ingested, transformed and served; storage supports the middle stages.",
            ),
            (
                "Generation, serving, ingestion, storage, transformation",
                False,
                "Serving is the last stage: you serve data after it has been made useful.",
            ),
        ),
        question(
            "A mobile app team owns the database your pipeline reads from. Which stage is that database?",
            (
                "Generation (a source system)",
                True,
                "Source systems generate the data; you usually do not own them, which is why you talk to "
                "their owners.",
            ),
            ("Serving", False, "Serving is where your output goes, not where your input comes from."),
            (
                "Transformation",
                False,
                "The app database is not reshaping data for analysis; it runs the app.",
            ),
        ),
        question(
            "Why are security and orchestration called 'undercurrents' rather than stages?",
            (
                "They only matter at the end of the pipeline",
                False,
                "They matter everywhere: a leak or a mis-ordered task can happen in any stage.",
            ),
            (
                "They apply across every stage instead of happening at one point",
                True,
                "An undercurrent flows under the whole lifecycle: every stage needs security, management, "
                "operations, architecture, orchestration and good code.",
            ),
            ("They are optional extras", False, "Skipping them is how pipelines leak data or fail silently."),
        ),
        question(
            "Reshaping order lines into a star schema for analysts belongs to which stage?",
            ("Ingestion", False, "Ingestion moves data in; remodelling it happens after."),
            ("Storage", False, "Storage keeps the data; the star schema is a new shape you compute."),
            ("Transformation", True, "Querying, modelling and reshaping data is transformation."),
            ("Generation", False, "Generation happens in the source system, before you see the data."),
        ),
    ),
)
