"""Quiz for lesson 07: compute, networking, storage and databases on AWS.

Each question applies the lesson to a new case; every wrong option is a belief learners
really hold. Choices are written in their display order (``rotate=False``).
"""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: compute, network, storage",
    (
        question(
            "Read the instance type m7gd.2xlarge part by part. What does it describe?",
            (
                "A GPU machine ('g') with seven ('7') local disks ('d')",
                False,
                "GPU families are letters at the start (p, g); a 'g' after the generation number means "
                "Graviton, and '7' is the generation, not a count of disks.",
            ),
            (
                "Memory optimised ('m'), generation 7, with 2 GB of RAM",
                False,
                "'m' is general purpose (memory optimised is 'r'), and '2xlarge' is a size, twice an "
                "xlarge, not an amount of RAM.",
            ),
            (
                "General purpose, gen 7, Graviton CPU, NVMe disks, 2 x xlarge",
                True,
                "family m, generation 7, capabilities g (Graviton, Arm) and d (local NVMe disks), size "
                "2xlarge.",
            ),
            (
                "Nothing valid: capabilities must come before the generation",
                False,
                "Capability letters follow the generation number (m7gd), never precede it.",
            ),
            rotate=False,
        ),
        question(
            "A 90-second job runs on an on-demand instance. How long is each run billed on Ubuntu, and "
            "on SUSE Linux Enterprise Server?",
            (
                "90 s on Ubuntu; a full hour on SUSE",
                True,
                "Ubuntu, Amazon Linux, Windows and RHEL are billed per second (60 s minimum); SUSE is "
                "billed per started hour.",
            ),
            (
                "90 s on both: on-demand is always per second",
                False,
                "Per-second billing covers most but not all OS images: SUSE and some Marketplace images "
                "with an hourly fee are billed per hour.",
            ),
            (
                "60 s on both: short runs pay the minimum",
                False,
                "60 s is the minimum for per-second billing, not a flat rate: a 90-second run on Ubuntu "
                "is billed 90 s.",
            ),
            (
                "An hour on both: EC2 is billed by the hour",
                False,
                "Hourly billing as the rule ended in 2017 for Linux and 2021 for Windows; today only some OS "
                "images (SUSE...) are billed per hour.",
            ),
            rotate=False,
        ),
        question(
            "You create a security group for a new instance and add no rules. On the instance, "
            "'curl https://pypi.org' works; SSH from your laptop times out. Why?",
            (
                "A group denies all traffic, so curl must have gone another way",
                False,
                "Only inbound is closed by default: a new group carries an outbound rule that allows "
                "all traffic, which is the way curl went.",
            ),
            (
                "The group lets in traffic from AWS networks; your laptop is outside",
                False,
                "A new group has no inbound rule at all, not even for AWS addresses; you add the sources "
                "you trust.",
            ),
            (
                "SSH is filtered by network ACLs; security groups only filter HTTP",
                False,
                "Security groups filter every protocol and port (TCP, UDP, ICMP...), SSH included.",
            ),
            (
                "A new group allows all outbound traffic and no inbound traffic",
                True,
                "No inbound rule means nothing gets in; the default outbound rule (all traffic, "
                "0.0.0.0/0) lets the instance call out, and replies come back because groups are stateful.",
            ),
            rotate=False,
        ),
        question(
            "You stop the lab's RDS instance on a Friday and forget it for a month. What does the bill "
            "show?",
            (
                "Nothing after Friday: a stopped database costs nothing more",
                False,
                "A stopped RDS instance still bills its provisioned storage (and backups beyond the free "
                "allowance).",
            ),
            (
                "Storage all month, and instance hours again from day 7",
                True,
                "RDS keeps billing storage while stopped, and AWS starts a stopped instance again after "
                "7 days; from then on it bills its hourly price too.",
            ),
            (
                "Storage only: it stays stopped until you start it",
                False,
                "That holds for EC2, not RDS: a DB instance cannot stay stopped longer than 7 days.",
            ),
            (
                "Full instance hours: stopping only closes connections",
                False,
                "While it is stopped, no instance hours are billed; the trap is the automatic restart "
                "after 7 days.",
            ),
            rotate=False,
        ),
        question(
            "A container image converts an uploaded video in about 40 minutes, a few times a day. "
            "Where should it run?",
            (
                "Lambda: uploads trigger it and Lambda scales with the load",
                False,
                "Lambda stops every run after 15 minutes; a 40-minute job cannot finish there.",
            ),
            (
                "Lambda, after raising its timeout to an hour",
                False,
                "The timeout can be raised only up to 15 minutes; no setting lets a run last 40.",
            ),
            (
                "EC2 only: containers need servers you run yourself",
                False,
                "With Fargate, ECS or EKS run containers without servers you manage; EC2 is needed only "
                "when the job needs the machine itself.",
            ),
            (
                "Fargate (ECS or EKS): long runs, no server to manage",
                True,
                "A container that runs longer than Lambda allows, started a few times a day, fits a "
                "Fargate task billed only while it runs.",
            ),
            rotate=False,
        ),
        question(
            "Analysts sum 5 years of order lines per country and month straight on the shop's RDS MySQL. "
            "Their queries take minutes and slow the shop. Which choice fixes both?",
            (
                "A bigger RDS instance type, so both workloads fit",
                False,
                "More CPU helps for a while, but a row store still reads whole rows for every sum, and "
                "the analysts still compete with the shop.",
            ),
            (
                "An index on every column of the order lines table",
                False,
                "Indexes speed up finding a few rows; sums over all rows still read them all, and every "
                "index slows the shop's inserts.",
            ),
            (
                "Load the order lines into Redshift and query there",
                True,
                "A columnar warehouse reads only the columns a query names, spread over nodes, and the "
                "shop's database no longer serves the analysts.",
            ),
            (
                "Run the same queries at night, when the shop is quiet",
                False,
                "That hides the slowdown but not the slow queries, and it makes the numbers a day late.",
            ),
            rotate=False,
        ),
    ),
)
