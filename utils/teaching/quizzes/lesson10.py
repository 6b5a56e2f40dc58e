"""Quiz for lesson 10: serving, security, data management and data quality.

Choices are written in the order learners see them (``rotate=False``), so the position of
each right answer is chosen on purpose and spread over a-d.
"""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: serving, security, data management, quality",
    (
        question(
            "A bike-sharing app shows each rider a monthly chart of their own trips and the CO2 "
            "they saved. Which form of serving is that?",
            ("Business intelligence", False,
             "BI serves the company's own decision makers; here the audience is the customers."),
            ("Embedded analytics", True,
             "Analytics served to external users inside the product, with the freshness and "
             "reliability a customer-facing feature needs."),
            ("Operational analytics", False,
             "Operational analytics lets staff act on live data right now (say, moving bikes to "
             "empty stations); a rider's monthly summary is not that."),
            ("Reverse ETL", False,
             "Reverse ETL writes results back into operational tools such as a CRM; it does not "
             "draw charts for customers."),
            rotate=False,
        ),
        question(
            "A nightly job reads three tables of the source database and writes Parquet under one "
            "S3 prefix. Which permissions follow least privilege?",
            ("SELECT on the whole database, so next month's new table needs no ticket", False,
             "Convenient today, but every extra table is exposed if the job's credentials leak; "
             "grant the new table when the job needs it."),
            ("Read-only access everywhere, since reading cannot damage anything", False,
             "Reading can leak sensitive data, and the job must also write; least privilege "
             "limits reads too."),
            ("SELECT on those three tables and write access to that prefix only", True,
             "Exactly what the job does and nothing more: a leak or a bug can reach little."),
            ("The admin account, with its password kept in a secrets manager", False,
             "A secrets manager protects the password, not the power of the account behind it."),
            rotate=False,
        ),
        question(
            "As the read-only user you run DROP TABLE old_backup and the server answers error 1142, "
            "'DROP command denied'. What do you now know?",
            ("The table old_backup does not exist", False,
             "A missing table is error 1051, and the server only gets that far once the "
             "privilege check has passed."),
            ("The statement has a syntax error", False,
             "A syntax error is 1064; 1142 means the statement was understood and refused."),
            ("Nobody on this server, not even admin, may drop a table at all", False,
             "Privileges belong to accounts: the refusal says what THIS user may do."),
            ("The user lacks DROP on it; the table may or may not exist", True,
             "The server checks privileges before looking for the table, and refuses with 1142."),
            rotate=False,
        ),
        question(
            "A recommender keeps 50 million product embeddings in a vector database with an ANN "
            "index. What does the index buy compared with scoring every vector?",
            ("Far fewer comparisons per query, at a recall a little under 100%", True,
             "An IVF or HNSW index skips most vectors; the price is missing a neighbour now and then."),
            ("Exact answers, where scoring every vector is only approximate", False,
             "It is the other way round: the full scan is exact, the index approximate."),
            ("Cosine similarity, which cannot be computed exactly for long vectors", False,
             "The cosine is a dot product and two lengths, exact for any size; speed is the issue."),
            ("Embeddings that a model no longer has to compute", False,
             "The model still computes every embedding; the database stores and searches them."),
            rotate=False,
        ),
        question(
            "A customer's credit limit is stored as 21,000, a possible value, but the signed "
            "contract says 12,000. Which check can catch it?",
            ("A range check, 0 to 250,000 (validity)", False,
             "21,000 is inside the range: validity checks prove a value possible, not right."),
            ("A not-null check (completeness)", False,
             "The value is present; completeness is satisfied."),
            ("A freshness check on the update time (timeliness)", False,
             "A value updated a minute ago can still be wrong."),
            ("Reconciling with the system of record (accuracy)", True,
             "Only comparing with the truth, here the contract system, tests accuracy."),
            rotate=False,
        ),
        question(
            "Two teams report different March revenue for France because each keeps its own list "
            "of countries, spelled differently. Which DAMA-DMBOK area fixes the cause?",
            ("Data quality: a check that flags unknown spellings", False,
             "A check finds the symptom on every run, but the two lists remain; the cause is "
             "the missing shared list."),
            ("Reference and master data: one agreed list", True,
             "One governed list of countries that every team uses removes the disagreement at "
             "its source."),
            ("Data storage and operations: more frequent backups", False,
             "Backups restore data after a loss; they do not make two lists agree."),
            ("Data security: restrict who may edit the lists", False,
             "Fewer editors of two different lists still leaves two different lists."),
            rotate=False,
        ),
    ),
)
