"""Quiz for lesson 06: the AWS cloud, regions and availability zones."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: the cloud, regions and zones",
    (
        question(
            "What does 'us-east-1a' name?",
            ("A region", False, "The region is us-east-1; the trailing letter picks a zone inside it."),
            (
                "An availability zone in the us-east-1 region",
                True,
                "Region code + one letter = an availability zone: one or more data centres within the "
                "region.",
            ),
            ("An EC2 instance type", False, "Instance types look like t3.micro."),
            ("A VPC", False, "VPC ids look like vpc-0abc...; names like this one are zones."),
        ),
        question(
            "Why deploy a database across two availability zones?",
            ("It halves the price", False, "Two copies cost more, not less."),
            (
                "If one zone fails, the copy in the other keeps running",
                True,
                "Zones are isolated from each other's failures (power, network, floods), so replicas "
                "survive.",
            ),
            (
                "It lowers latency for users on another continent",
                False,
                "Zones are in the same region; to be closer to far-away users you would pick another region.",
            ),
        ),
        question(
            "A law requires customer data of EU citizens to stay in the EU. Which criterion decides the "
            "region?",
            ("Latency", False, "Latency matters, but a legal rule is a hard constraint that comes first."),
            ("Cost", False, "No saving justifies breaking a regulation."),
            (
                "Compliance",
                True,
                "Compliance filters the candidates; latency and cost then choose among what is left.",
            ),
            ("Service availability", False, "Availability matters too, but this question is about the law."),
        ),
        question(
            "Your traffic is 10x higher on one sale day a year. What does elasticity give you?",
            (
                "A fixed discount",
                False,
                "Elasticity is about capacity following demand, not about discounts.",
            ),
            (
                "Capacity that grows for the spike and shrinks after it, billed only while used",
                True,
                "You neither pay all year for peak capacity nor turn customers away on the sale day.",
            ),
            ("Guaranteed zero downtime", False, "Elasticity handles load, not every kind of failure."),
        ),
        question(
            "Under the shared responsibility model, who must patch the OS on your EC2 instance?",
            ("AWS", False, "AWS secures the hardware, network and hypervisor: security OF the cloud."),
            ("You", True, "What you run IN the cloud (OS, apps, data, access rules) is your responsibility."),
        ),
    ),
)
