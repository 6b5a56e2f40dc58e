"""Quiz for lesson 05: requirements and thinking like a data engineer, applied to new requests."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: requirements",
    (
        question(
            "A product manager asks you for 'all the data, in real time'. Which first step turns that into "
            "something you can build?",
            (
                "Build a streaming pipeline, since real time is the safe upper bound",
                False,
                "Streaming costs more to build and run; if an hourly refresh serves the decision, you have "
                "paid for speed nobody uses. Ask first.",
            ),
            (
                "Ask which decision it supports and how old the data may be",
                True,
                "The decision tells you which data matters; the age in minutes tells you batch or "
                "streaming. Both turn vague words into figures.",
            ),
            (
                "Load every table once an hour, a fair compromise for both",
                False,
                "A compromise is still a guess: you would choose the tables and the hour without knowing "
                "what the data is for.",
            ),
            (
                "Give them read access to the production sales database",
                False,
                "That puts analysis load on the source and hands over raw tables instead of what they "
                "need; it is the status quo, not a requirement.",
            ),
            rotate=False,
        ),
        question(
            "Which of these requirements can you test exactly as it is written?",
            (
                "The dashboard must always be up-to-date and fast for users",
                False,
                "'Up-to-date' and 'fast' have no figures: hourly or daily? two seconds or twenty? Nobody can "
                "say whether it passed.",
            ),
            (
                "Give the analysts all the data they could ever need for reports",
                False,
                "'All the data' names no source, table or field; it cannot be checked and usually hides the "
                "question 'what for?'.",
            ),
            (
                "The pipeline must scale easily to handle future growth in orders",
                False,
                "'Scale easily' to what volume? Without a figure (say, 10 times today's orders) there is "
                "nothing to test against.",
            ),
            (
                "Office sales at most 240 minutes old; page opens in under 5 s",
                True,
                "Both halves carry a figure and a unit, so a test can measure the data's age and the page's "
                "load time and say pass or fail.",
            ),
            rotate=False,
        ),
        question(
            "The VP's notes say the Monday export takes 4 hours and the figures are 5 days old by Friday. "
            "Why write those figures down instead of 'the export is slow'?",
            (
                "Requirement documents must contain figures to pass review",
                False,
                "There is no such rule; the figures matter for what they let you do with the pain point, not "
                "for a reviewer.",
            ),
            (
                "The new pipeline must then finish within 4 hours a run",
                False,
                "The 4 hours is the manager's manual work each week, a cost to remove; it is not a runtime "
                "budget for the pipeline.",
            ),
            (
                "They state what the pain costs, so the fix can be valued",
                True,
                "4 hours a week has a price (lesson 04), and 5-day-old data has a measurable target to beat: "
                "the fix can be ranked and checked.",
            ),
            (
                "They prove the VP needs a streaming pipeline for sales",
                False,
                "Her answer was that data up to four hours old is fine: a batch load meets that, far more "
                "cheaply than streaming.",
            ),
            rotate=False,
        ),
        question(
            "Marketing confirms that 'real-time' means data at most 60 minutes old. Which design does that "
            "figure allow?",
            (
                "A batch load every half hour, far cheaper than streaming",
                True,
                "Loading every 30 minutes keeps the data under an hour old with ordinary batch jobs, without "
                "the cost of a streaming system.",
            ),
            (
                "Only a streaming pipeline delivering each sale in seconds",
                False,
                "Seconds are far fresher than the 60 minutes asked for; the figure is what lets you avoid "
                "that cost.",
            ),
            (
                "A nightly batch, since marketing reads dashboards by day",
                False,
                "A nightly load leaves data up to 24 hours old during the day, well past the 60 minutes "
                "marketing confirmed.",
            ),
            (
                "No pipeline: marketing can query the sales database",
                False,
                "Freshness alone does not make the source the right place: analysis would load the sales "
                "database and still not be cleaned.",
            ),
            rotate=False,
        ),
        question(
            "Six months after launch, marketing asks for recommendations refreshed every 5 minutes. Where in "
            "the thinking loop do you start again?",
            (
                "Choose tools: swap the batch job for a streaming engine",
                False,
                "That skips straight to technology; you do not yet know what the 5 minutes is for or whether "
                "it is worth its cost.",
            ),
            (
                "Build and iterate: schedule the batch job more often",
                False,
                "Tuning what exists may be the answer in the end, but deciding it now skips the goal and the "
                "requirement it should serve.",
            ),
            (
                "Define requirements: write '5 minutes' into the spec",
                False,
                "Close, but a figure without its purpose is a guess written down; first learn which decision "
                "the 5 minutes serves, and for whom.",
            ),
            (
                "Business goals: what the refresh is for, and for whom",
                True,
                "A changed need sends you back to the start of the loop: the goal decides the requirement, "
                "which decides the tools.",
            ),
            rotate=False,
        ),
    ),
)
