"""Quiz for lesson 07: compute, networking, storage and databases on AWS."""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: compute, network, storage",
    (
        question(
            "In 'm7gd.2xlarge', what does the 'g' mean?",
            ("General purpose", False, "General purpose is the family letter 'm'."),
            (
                "Graviton (Arm) processor",
                True,
                "Capability letters after the generation: g = Graviton, d = local NVMe disks.",
            ),
            ("GPU", False, "GPU instances are families p and g; here 'g' comes after the generation number."),
        ),
        question(
            "You stopped an EC2 instance. What are you still billed for?",
            ("Nothing", False, "Its EBS disk still exists and still costs money."),
            (
                "Its attached EBS storage (and any Elastic IP allocated to it)",
                True,
                "Stopping halts compute charges. The EBS volume bills until you delete it; an Elastic IP "
                "bills until you release it. An auto-assigned public IPv4 is released on stop.",
            ),
            ("The full hourly instance price", False, "Compute is not billed while the instance is stopped."),
        ),
        question(
            "Which storage type is best for a data lake of Parquet files read by many services?",
            (
                "Block storage (EBS)",
                False,
                "EBS attaches to one machine like a disk; it does not scale to a shared lake.",
            ),
            (
                "Object storage (S3)",
                True,
                "S3 stores any object at huge scale and every service can read it over the API.",
            ),
            (
                "File storage (EFS)",
                False,
                "EFS is a shared file system; for a data lake, S3 is cheaper and more widely supported.",
            ),
        ),
        question(
            "A security group has no rule for port 3306. A laptop tries to connect to MySQL. What happens?",
            (
                "The connection is allowed because nothing forbids it",
                False,
                "Security groups have allow rules only; anything not allowed is denied.",
            ),
            ("The connection is denied", True, "Default deny: only explicitly allowed traffic gets in."),
        ),
        question(
            "A /24 subnet has 256 addresses. How many can you use for resources on AWS?",
            ("256", False, "AWS reserves some addresses in every subnet."),
            (
                "254",
                False,
                "That is the classic count (minus network and broadcast); AWS reserves three more.",
            ),
            (
                "251",
                True,
                "AWS reserves 5 addresses per subnet: network, router, DNS, future use and broadcast.",
            ),
        ),
        question(
            "Which service is a data warehouse?",
            (
                "Amazon RDS",
                False,
                "RDS runs transactional databases such as MySQL: often the pipeline's source.",
            ),
            (
                "Amazon Redshift",
                True,
                "Redshift is AWS's columnar data warehouse, made for analytical SQL over large tables.",
            ),
            ("AWS Lambda", False, "Lambda runs functions in response to events."),
        ),
    ),
)
