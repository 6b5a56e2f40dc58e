"""Quiz for lesson 01: what data engineering is, applied to new cases."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: what is data engineering?",
    (
        question(
            "A hospital's ward systems write raw admission events, and its analysts want daily bed "
            "occupancy per ward. Which of these tasks is the data engineer's?",
            (
                "Decide which wards should get more beds next winter",
                False,
                "That is a decision the occupancy figures support; managers and analysts make it with the "
                "data you deliver.",
            ),
            (
                "Build the job that turns events into daily occupancy",
                True,
                "Raw events in, a reliable daily table out, delivered to the analysts every day: get raw "
                "data, make it useful, make it available.",
            ),
            (
                "Train a model that forecasts next month's admissions",
                False,
                "Forecasting is a data scientist's or ML engineer's work; they depend on the clean history "
                "a data engineer provides.",
            ),
            (
                "Run the ward systems' databases and their backups",
                False,
                "Running the source systems is their owners' job (database administrators); you read from "
                "them and keep in touch with them.",
            ),
            rotate=False,
        ),
        question(
            "In the toy pipeline 4 of 40 raw lines were rejected. A colleague suggests dropping such lines "
            "without a trace so the numbers look clean. What is the best reply?",
            (
                "Agree: a tenth of the lines cannot change an answer",
                False,
                "A tenth is enough to bias a count, and a silent drop also hides that the source is "
                "sending damaged data.",
            ),
            (
                "Repair them by guessing the missing fields from neighbours",
                False,
                "Guessed values look real downstream but were never observed; inventing data is worse "
                "than setting it aside.",
            ),
            (
                "Stop the whole pipeline until the source sends a perfect log",
                False,
                "One bad line should not stop every good one from being delivered; real sources are never "
                "perfect.",
            ),
            (
                "Set them aside and report them, so every line is counted",
                True,
                "kept + rejected == raw: nothing disappears silently, and the rejected list tells the "
                "source's owners what to fix.",
            ),
            rotate=False,
        ),
        question(
            "A churn model is stuck at 70% accuracy. Half its training rows come from a system that logs "
            "amounts in cents, the other half in dollars. What is the data-centric move?",
            (
                "Convert every amount to one unit, then retrain the model",
                True,
                "The model was never the problem: like web-2's seconds in this lesson, mixed units hide the "
                "signal until the data is fixed.",
            ),
            (
                "Switch to a bigger model that can learn both units itself",
                False,
                "That is model-centric, and in this lesson the more careful model learned the defect "
                "instead of the pattern.",
            ),
            (
                "Collect twice as many rows from the same two systems",
                False,
                "More rows with the same defect teach the same mistake: ten times more sessions did not "
                "help the lesson's model.",
            ),
            (
                "Drop the amount column, since its values disagree",
                False,
                "The amounts carry real signal once they share a unit; dropping them throws away the "
                "information the model needs.",
            ),
            rotate=False,
        ),
        question(
            "A pipeline delivers correct numbers every day, but the source's API key sits in plain text in a "
            "notebook shared with 40 people. Which undercurrent is failing?",
            (
                "DataOps, since nobody monitors who opens the notebook",
                False,
                "Monitoring could notice misuse later, but the failure is that the key is readable by "
                "people who do not need it at all.",
            ),
            (
                "Data management, since the key describes the source",
                False,
                "Data management governs the data (quality, lineage, discoverability); who can read a "
                "credential is a matter of access.",
            ),
            (
                "Security: a secret is exposed beyond who needs it",
                True,
                "Least privilege and careful handling of secrets are the security undercurrent, and they "
                "fail here whatever the numbers say.",
            ),
            (
                "Orchestration, since tasks should pass the key along",
                False,
                "Orchestration orders and schedules tasks; passing a secret between them does not keep it "
                "from the 40 readers.",
            ),
            rotate=False,
        ),
        question(
            "You join a company whose tools differ from this course's AWS labs. What carries over "
            "unchanged?",
            (
                "The services and their names, since other clouds copy AWS's",
                False,
                "Clouds name and split their services differently; the names you learn here will not "
                "all exist elsewhere.",
            ),
            (
                "The reasoning: goals, then requirements, then the tools",
                True,
                "The course teaches a way of thinking that works with any toolbox: the lifecycle, the "
                "undercurrents and the thinking loop.",
            ),
            (
                "Nothing: a new stack means learning it all from scratch",
                False,
                "The lifecycle stages, undercurrents and requirement habits apply whatever the stack; only "
                "the tools change.",
            ),
            (
                "Only SQL, since the rest of the course is about AWS",
                False,
                "SQL travels well, but so do the lifecycle, the undercurrents and requirement gathering, "
                "which are not about AWS at all.",
            ),
            rotate=False,
        ),
    ),
)
