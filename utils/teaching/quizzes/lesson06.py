"""Quiz for lesson 06: the AWS cloud, regions and availability zones.

Each question applies the lesson to a new case; every wrong option is a belief learners
really hold. Choices are written in their display order (``rotate=False``).
"""

from utils.teaching.quiz import Quiz, question

QUIZ = Quiz(
    "Check yourself: the cloud, regions and zones",
    (
        question(
            "All of a shop's servers run in eu-west-1a. A flood cuts that zone's power for a day. What "
            "happens to the shop?",
            (
                "Nothing: AWS restarts the instances in eu-west-1b for you",
                False,
                "EC2 does not move your instances to another zone; you must already run copies there "
                "(or have an autoscaling group spanning zones launch new ones).",
            ),
            (
                "Down for the day; a copy in a second zone would have kept it up",
                True,
                "Zones fail independently. A system that runs in two or more zones survives the loss "
                "of one; a system in a single zone does not.",
            ),
            (
                "The whole eu-west-1 region stops, so only a second region helps",
                False,
                "A zone failing does not take down the region: the other zones keep running, which is "
                "why spreading over zones is the usual first step.",
            ),
            (
                "Nothing: 'a' is a label and the data is spread over the region anyway",
                False,
                "Instances and EBS disks live in one zone. The letter is shuffled per account, but it "
                "still names one physical zone.",
            ),
            rotate=False,
        ),
        question(
            "Most of your users are in London. A contract says customer data must stay inside the "
            "EU. London (eu-west-2) has the lowest latency. What do you do?",
            (
                "Use eu-west-2: London is in Europe, which is what the contract means",
                False,
                "The UK is not in the EU; London fails the compliance filter however fast it is.",
            ),
            (
                "Use eu-west-2 and encrypt the data, so where it is stored no longer matters",
                False,
                "Encryption protects the content; it does not change where the data is stored, which "
                "is what the rule is about.",
            ),
            (
                "Take the cheapest EU region: once a rule applies, latency stops mattering",
                False,
                "Compliance only removes candidates; among the regions left, latency and cost still "
                "decide (Ireland is close to London).",
            ),
            (
                "Rank only EU regions, e.g. Ireland, and accept a few more milliseconds",
                True,
                "Compliance is a hard filter applied first; latency and cost then choose among the EU "
                "regions that remain.",
            ),
            rotate=False,
        ),
        question(
            "A ticket site needs 2 servers all year, and 40 during the 20-minute rush when a big concert "
            "goes on sale. What does elastic capacity give it?",
            (
                "About 40 servers during the rush and 2 the rest of the time, billed as used",
                True,
                "Capacity follows demand: the site pays for the big fleet only while it runs, instead of "
                "owning 40 servers that idle all year.",
            ),
            (
                "40 servers kept all year, but only billed at a discount while idle",
                False,
                "Idle capacity you keep is billed in full; elasticity means giving it back.",
            ),
            (
                "A lower price per server-hour during the rush, because it buys in bulk",
                False,
                "On-demand prices do not drop with volume during a spike; savings come from not paying "
                "for idle servers.",
            ),
            (
                "Servers that appear instantly, so the first second of the rush never fails",
                False,
                "New instances take a minute or more to boot; for a known rush you scale out ahead of "
                "time or keep some headroom.",
            ),
            rotate=False,
        ),
        question(
            "You run MySQL yourself on an EC2 instance; a colleague uses RDS for MySQL. A MySQL security "
            "patch comes out. Who applies it?",
            (
                "AWS, in both cases: the database runs on AWS hardware",
                False,
                "On EC2 AWS manages the hardware and hypervisor only; the OS and software you install "
                "are yours to patch.",
            ),
            (
                "You, in both cases: AWS never touches software you chose",
                False,
                "On a managed service AWS does patch the engine; that is part of what you pay RDS for.",
            ),
            (
                "You on EC2; on RDS, AWS does it in the maintenance window",
                True,
                "The line of responsibility moves with the service: with RDS the engine is AWS's job; "
                "on EC2 everything above the hypervisor is yours.",
            ),
            (
                "AWS on EC2; on RDS it is yours, since you picked the version",
                False,
                "It is the other way round: EC2 leaves the OS and software to you; RDS manages the "
                "engine for you.",
            ),
            rotate=False,
        ),
        question(
            "90% of requests come from Sydney and 10% from London. Ignoring cost, which region gives the "
            "lowest traffic-weighted latency?",
            (
                "ap-south-1 (Mumbai): halfway between the two groups",
                False,
                "Halfway makes almost every request slow: 0.9 x ~140 ms + 0.1 x ~100 ms, about 138 ms "
                "on average, against about 24 ms for Sydney.",
            ),
            (
                "ap-southeast-2 (Sydney), next to most of the traffic",
                True,
                "Weighted by traffic: 0.9 x ~0 ms + 0.1 x ~240 ms, about 24 ms on average; London's "
                "users pay the long trip, but they are 10%.",
            ),
            (
                "eu-west-2 (London): the older, larger region is faster",
                False,
                "Distance, not a region's age or size, sets the round trip: 90% of requests would "
                "cross the globe (about 214 ms on average).",
            ),
            (
                "Any: the cloud is global, so latency is the same everywhere",
                False,
                "Light in fibre still needs time to travel: a Sydney-London round trip is about 240 ms "
                "by the lesson's estimate.",
            ),
            rotate=False,
        ),
    ),
)
