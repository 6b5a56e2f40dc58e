"""Quiz for lesson 01: what data engineering is."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: what is data engineering?",
    (
        question(
            "Which sentence best sums up a data engineer's job?",
            (
                "Train the most accurate machine-learning models",
                False,
                "That is mostly a data scientist's or ML engineer's job; they rely on the data you deliver.",
            ),
            (
                "Collect data from the systems that produce it, reshape it, and deliver it to the people and "
                "programs that rely on it",
                True,
                "Raw in, useful out, served to the people and systems who need it: that is the whole job in "
                "one line.",
            ),
            (
                "Administer the company's operational databases",
                False,
                "Database administrators run source systems; a data engineer reads from them but rarely owns "
                "them.",
            ),
            (
                "Build dashboards for executives",
                False,
                "Dashboards are one downstream use; analysts usually build them on top of the data you "
                "serve.",
            ),
        ),
        question(
            "In the toy pipeline, some raw lines were rejected. Why is that good engineering?",
            (
                "It makes the pipeline run faster",
                False,
                "Speed is not the point: 4 lines out of 40 cost nothing to parse.",
            ),
            (
                "Bad input is set aside and visible instead of silently corrupting the counts",
                True,
                "Rejected lines can be inspected and reported; they never pollute what downstream users see.",
            ),
            (
                "Real sources never send bad data, so it is only for practice",
                False,
                "Real sources send truncated, corrupted and incomplete records all the time.",
            ),
        ),
        question(
            "Which of these is NOT one of the undercurrents of data engineering?",
            ("DataOps", False, "DataOps (automation, monitoring, incident response) is an undercurrent."),
            ("Orchestration", False, "Orchestration (running tasks in the right order) is an undercurrent."),
            (
                "Graphic design",
                True,
                "Right: the undercurrents are security, data management, DataOps, architecture, "
                "orchestration and software engineering.",
            ),
            ("Security", False, "Security runs under every stage: it is an undercurrent."),
        ),
        question(
            "What does 'data-centric AI' emphasise?",
            (
                "Bigger models matter more than better data",
                False,
                "Data-centric AI says the opposite: improving the data often helps more than changing the "
                "model.",
            ),
            (
                "Systematically engineering the data an AI system learns from",
                True,
                "Quality, consistency and coverage of the training data are engineered, not left to chance.",
            ),
            (
                "Storing AI models in a database",
                False,
                "Where models are stored is not what the term is about.",
            ),
        ),
    ),
)
