"""Quiz for lesson 10: serving, security and data quality."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: serving, security, quality",
    (
        question(
            "Showing each customer their own usage statistics inside your product is...",
            ("Business intelligence", False, "BI serves internal decision makers, not customers."),
            ("Embedded analytics", True, "Analytics served to external users inside an application."),
            ("Reverse ETL", False, "Reverse ETL feeds results back into operational tools such as a CRM."),
        ),
        question(
            "Pushing churn-risk scores from the warehouse into the sales team's CRM is...",
            (
                "Reverse ETL",
                True,
                "Transformed data or model output flows back into a source/operational system.",
            ),
            (
                "Operational analytics",
                False,
                "Operational analytics monitors live data for immediate action.",
            ),
            ("Ingestion", False, "Ingestion brings data into your pipeline; this sends it back out."),
        ),
        question(
            "The ETL job only reads tables. Which database permission should its user have?",
            (
                "ALL PRIVILEGES, to avoid permission errors",
                False,
                "If the job or its password is ever compromised, the attacker could delete everything.",
            ),
            (
                "SELECT on the tables it reads",
                True,
                "Least privilege: only what the job needs, so a mistake or a breach can do little harm.",
            ),
            ("The root account", False, "Never run pipelines as root or a superuser."),
        ),
        question(
            "A row says country = 'Untied States'. Which quality check catches it?",
            ("not null", False, "The value is present, just wrong."),
            ("allowed values (validity)", True, "Checking against a list of valid countries catches typos."),
            ("uniqueness", False, "Uniqueness is about repeated keys."),
        ),
        question(
            "High-quality data is...",
            ("As large as possible", False, "More data is not better data."),
            (
                "Accurate, complete and timely for its use",
                True,
                "Quality is fitness for use: correct values, nothing missing, and fresh enough.",
            ),
            ("Stored in the newest format", False, "Format helps performance, not correctness."),
        ),
    ),
)
