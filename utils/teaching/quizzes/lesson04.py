"""Quiz for lesson 04: stakeholders and business value."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: stakeholders and value",
    (
        question(
            "The software engineers who run the orders database are your...",
            (
                "Downstream stakeholders",
                False,
                "Downstream stakeholders use your output; these engineers produce your input.",
            ),
            (
                "Upstream stakeholders",
                True,
                "They own a source system you depend on; their changes can break your pipeline, so keep in "
                "touch.",
            ),
            ("Customers", False, "They are colleagues whose systems feed yours."),
        ),
        question(
            "A data scientist who trains models on your tables is...",
            ("Upstream", False, "They consume what you produce."),
            ("Downstream", True, "They depend on the quality and timeliness of the data you serve."),
        ),
        question(
            "A new streaming engine is exciting, but nobody has asked for fresher data. What should you do?",
            (
                "Adopt it now so the team stays modern",
                False,
                "Technology for its own sake costs time and money and delivers no value to anyone.",
            ),
            (
                "Keep it in mind and prioritise work a stakeholder needs",
                True,
                "Business value drives technical choices; adopt a tool when a real need makes it worth its "
                "cost.",
            ),
            (
                "Rewrite the batch pipeline in it over a weekend",
                False,
                "An unrequested rewrite adds risk and maintenance with no benefit to show for it.",
            ),
        ),
        question(
            "Which is the best way to show the value of a pipeline to the business?",
            ("The number of tools it uses", False, "Tool count measures complexity, not value."),
            (
                "Hours of manual work it removes and decisions it enables",
                True,
                "Value is measured in outcomes for people: time saved, faster decisions, revenue, lower "
                "risk.",
            ),
            ("Lines of code written", False, "More code usually means more to maintain, not more value."),
        ),
    ),
)
