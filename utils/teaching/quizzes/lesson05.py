"""Quiz for lesson 05: requirements and thinking like a data engineer."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: requirements",
    (
        question(
            "Marketing asks for a 'real-time dashboard'. What do you do first?",
            (
                "Build a streaming pipeline",
                False,
                "Streaming is expensive; marketing may be happy with hourly data. Ask before you build.",
            ),
            (
                "Ask how fresh the data must be and what they will do with it",
                True,
                "'Real-time' can mean seconds or a day; the answer decides batch vs streaming and the cost.",
            ),
            (
                "Give them access to the raw database dump",
                False,
                "That is the painful status quo: most of the dump is irrelevant and it breaks when the "
                "schema changes.",
            ),
        ),
        question(
            "Which requirement is written well?",
            (
                "The data should be up-to-date",
                False,
                "'Up-to-date' has no number: hourly? daily? Nobody can test it.",
            ),
            (
                "Sales per product line, refreshed every 60 minutes, queryable with SQL by the analysts",
                True,
                "It says what, how fresh and for whom, so you can build it and check it.",
            ),
            (
                "The system must be fast and scalable",
                False,
                "Fast for what, scalable to what volume? Ask for figures.",
            ),
        ),
        question(
            "Why read your understanding back to the stakeholders?",
            (
                "To fill the meeting",
                False,
                "It is the cheapest way to catch a misunderstanding, not a formality.",
            ),
            (
                "To confirm you understood them before you build anything",
                True,
                "Fixing a wrong requirement in a conversation costs minutes; fixing it in a built system "
                "costs weeks.",
            ),
            ("Because it is legally required", False, "It is good practice, not law."),
        ),
        question(
            "In the thinking loop of a data engineer, what comes right after defining system requirements?",
            (
                "Choosing tools and technologies",
                True,
                "Requirements first, tools second: the tools are chosen because they meet the requirements.",
            ),
            (
                "Identifying business goals",
                False,
                "Business goals come before requirements; the loop returns to them later.",
            ),
            ("Building and iterating", False, "You need to choose the tools before you can build with them."),
        ),
    ),
)
