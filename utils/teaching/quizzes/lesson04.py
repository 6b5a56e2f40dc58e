"""Quiz for lesson 04: stakeholders and business value, applied to new cases."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: stakeholders and value",
    (
        question(
            "The order-system team changes which orders count as 'Shipped', and your dashboard's revenue "
            "drops overnight. Whom should you have been talking to, and about what?",
            (
                "The dashboard's readers, about which figures they watch",
                False,
                "They felt the damage, but they are downstream: nothing they could tell you would have "
                "warned you of a change made in the source.",
            ),
            (
                "The cloud provider, about outages in the data's storage",
                False,
                "Nothing failed in storage; the data changed meaning at its source, which no cloud status "
                "page reports.",
            ),
            (
                "The data scientists, about whether their models use status",
                False,
                "They are downstream users too; they would be hit by the change, not able to announce it.",
            ),
            (
                "The source's owners, about how you will hear of changes",
                True,
                "Upstream owners decide what the data means; agree with them how changes reach you before "
                "they reach your dashboard.",
            ),
            rotate=False,
        ),
        question(
            "A new streaming engine is exciting, but nobody has asked for fresher data. What does Bill "
            "Inmon's business-value advice suggest?",
            (
                "Adopt it now, so the team's skills stay current",
                False,
                "Skills are a real concern, but adopting a tool for its own sake spends the business's time "
                "and money on a benefit nobody named.",
            ),
            (
                "Park it until a real need makes it worth its cost",
                True,
                "Value drives the technology: adopt the engine when a stakeholder's need (fresher data for a "
                "decision) pays for it.",
            ),
            (
                "Rewrite one batch job in it first to prove its value",
                False,
                "A trial rewrite still spends weeks on work nobody asked for; a pilot proves the tool works, "
                "not that anyone needs it.",
            ),
            (
                "Adopt it once most of the industry has adopted it",
                False,
                "What other companies run says nothing about what your stakeholders need; follow value, not "
                "the crowd.",
            ),
            rotate=False,
        ),
        question(
            "Two requests take 2 weeks each. A saves the analysts 10 hours a week (at $50 an hour, 46 "
            "weeks a year); B is a dashboard a VP calls 'nice to have', with no decision attached. Which "
            "goes first?",
            (
                "A: its value is measurable and someone needs it",
                True,
                "A is worth $23,000 a year (10 h x $50 x 46) to people who asked; B's value is still "
                "unnamed. Ask the VP what decision it would support.",
            ),
            (
                "B: a VP's request outranks the analysts' request",
                False,
                "Seniority is not value: Inmon's test is the tangible benefit to the organisation, and B has "
                "none stated yet.",
            ),
            (
                "Either one: with equal effort the order is a coin flip",
                False,
                "Equal effort makes value decide: value per week of effort is $11,500 for A and unknown "
                "for B.",
            ),
            (
                "B: dashboards are visible, so they prove value sooner",
                False,
                "Being seen is not delivering value; a dashboard nobody acts on changes no decision and "
                "saves no time.",
            ),
            rotate=False,
        ),
        question(
            "Three data scientists work 40-hour weeks and spend 80% of them wrangling data; your pipeline "
            "automates 75% of that wrangling. How many hours a week does it hand back?",
            (
                "96 hours: 80% of the team's 120 hours",
                False,
                "96 hours is all their wrangling; the pipeline takes over only 75% of it, so multiply by "
                "0.75 too.",
            ),
            (
                "90 hours: 75% of the team's 120 hours",
                False,
                "That applies the automated share to their whole week; it applies only to the 80% spent "
                "wrangling.",
            ),
            (
                "72 hours: 75% of the 96 wrangling hours",
                True,
                "3 x 40 x 0.8 x 0.75 = 72 hours a week, nearly two full-time people handed back to "
                "analysis.",
            ),
            (
                "24 hours: the wrangling left to do by hand",
                False,
                "24 hours (25% of 96) is what remains manual; the question asks what the pipeline hands "
                "back.",
            ),
            rotate=False,
        ),
    ),
)
