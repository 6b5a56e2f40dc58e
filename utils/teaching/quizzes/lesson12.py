"""Quiz for lesson 12: principles of good data architecture.

Choices are written in the order learners see them (``rotate=False``), so the position of
each right answer is chosen on purpose and spread over a-d.
"""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: architecture principles",
    (
        question(
            "A dashboard runs on two servers in different zones (99.5% each, either one is enough) "
            "and reads a database in one zone (99.9%). Its availability is about...",
            ("98.9%", False,
             "That treats the two servers as a chain (both needed); either one is enough."),
            ("99.9%", True,
             "(1 - 0.005 x 0.005) x 0.999: the pair is almost never down, so the database sets the limit."),
            ("99.998%", False,
             "That is the pair of servers alone; the single database is still in the chain."),
            ("99.4%", False,
             "That is one server and the database; the second copy removes most server downtime."),
            rotate=False,
        ),
        question(
            "Someone plugs an unknown laptop into a socket in the office meeting room. Under zero "
            "trust, what can it reach?",
            ("Everything on the office network, as it is behind the firewall", False,
             "That is the castle-and-moat model zero trust replaces: being inside proves nothing."),
            ("Only read-only resources, until someone notices", False,
             "Reads can leak data too; zero trust does not hand out any access by location."),
            ("Whatever the VPN would allow a remote employee", False,
             "The VPN is a network path, not an identity; no request is trusted for its path."),
            ("Nothing: no signed-in user, no healthy device, no grant", True,
             "Every request must prove identity and device health and match a grant."),
            rotate=False,
        ),
        question(
            "Six teams each copy every other team's data with one job per pair and direction. How "
            "many jobs is that, and what would a shared lake and catalog need?",
            ("30 jobs; with a shared lake, 6 publications", True,
             "6 x 5 directed pairs; shared storage and a catalog let each team publish once."),
            ("15 jobs; a shared lake would not reduce them", False,
             "15 counts each pair once, but each direction needs its own job; and sharing removes them."),
            ("36 jobs; a shared lake would halve them", False,
             "A team does not copy from itself: 6 x 5, not 6 x 6; and sharing does far better than half."),
            ("6 jobs either way", False,
             "Point-to-point copies grow with the square of the number of teams."),
            rotate=False,
        ),
        question(
            "A review finds that every analyst query reads raw JSON and takes minutes, while the "
            "bill stays small. Which Well-Architected pillar is this finding under?",
            ("Cost optimization, since slow queries waste money", False,
             "The bill is small; the problem is speed, not price."),
            ("Performance efficiency", True,
             "The wrong format for the workload: columnar, partitioned files would be much faster."),
            ("Reliability", False,
             "Nothing fails or loses data; it is slow."),
            ("Operational excellence", False,
             "That pillar is about running and changing the system safely, not query speed."),
            rotate=False,
        ),
        question(
            "Your batch design has worked for a year; volume has tripled and marketing now asks for "
            "hourly data. What do 'architecture is leadership' and 'always be architecting' suggest?",
            ("Keep the design: it works, and changing it is a risk", False,
             "A design that fitted last year's needs can stop fitting; keep evaluating it."),
            ("Rewrite everything as a stream, starting this week", False,
             "A big-bang rewrite is hard to reverse, and hourly data may only need more frequent runs."),
            ("Re-evaluate it and explain the options' trade-offs", True,
             "Evolve the design with the needs, and lead by explaining the choices, not imposing one."),
            ("Let marketing pick the tools, since they own the need", False,
             "Leading means guiding the choice with its trade-offs, not handing it off."),
            rotate=False,
        ),
        question(
            "Which of these decisions is the hardest to undo later?",
            ("Writing the whole lake as Parquet files in an S3 bucket", False,
             "An open format that many engines read: switching engines means no data conversion."),
            ("Running this quarter's queries on Athena", False,
             "Pay per query, no commitment: you can switch engines any time."),
            ("History kept in a format only one vendor can read", True,
             "A one-way door: leaving that vendor means converting every byte of history."),
            ("Declaring the infrastructure in Terraform", False,
             "Code you can review, change and destroy: that makes decisions easier to reverse."),
            rotate=False,
        ),
    ),
)
