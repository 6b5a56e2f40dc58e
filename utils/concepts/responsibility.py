"""The shared responsibility model as a rule: who secures which layer, on which service.

AWS secures the cloud itself (buildings, hardware, network, hypervisor); you secure what
you put in it. Where the line falls depends on the service: on EC2 everything from the
operating system up is yours; on a managed service such as RDS, AWS also runs and patches
the operating system and the database engine. Three layers stay yours on every service:
the network rules you set (security groups, bucket policies' network conditions), who may
access what (IAM), and your data (including whether it is encrypted).
"""

from __future__ import annotations

from dataclasses import dataclass

LAYERS = (
    "facilities", "hardware", "hypervisor", "operating system", "database engine",
    "network rules", "access", "data",
)  # fmt: skip
"""From the bottom up."""

AWS_MANAGED: dict[str, frozenset[str]] = {
    "EC2": frozenset({"facilities", "hardware", "hypervisor"}),
    "RDS": frozenset({"facilities", "hardware", "hypervisor", "operating system", "database engine"}),
    "S3": frozenset({"facilities", "hardware", "hypervisor", "operating system"}),
}
"""The layers AWS secures for each service; the other layers are yours."""


def who_secures(layer: str, service: str) -> str:
    """``"AWS"`` or ``"you"``: whose job it is to secure ``layer`` when you use ``service``."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; layers are {', '.join(LAYERS)}")
    if service not in AWS_MANAGED:
        raise ValueError(f"unknown service {service!r}; services are {', '.join(AWS_MANAGED)}")
    return "AWS" if layer in AWS_MANAGED[service] else "you"


@dataclass(frozen=True)
class Task:
    """A security task: what it is, the layer it belongs to, and the service it is about."""

    description: str
    layer: str
    service: str


TASKS: dict[str, Task] = {
    "ec2_failed_disk": Task(
        "replace a failed disk in the physical server under your EC2 instance", "hardware", "EC2"),
    "ec2_os_patch": Task(
        "install a Linux kernel security patch on your EC2 instance", "operating system", "EC2"),
    "ec2_isolation": Task(
        "keep your EC2 instance isolated from other customers' VMs on the same server", "hypervisor", "EC2"),
    "rds_engine_patch": Task(
        "apply a MySQL minor-version security patch to your RDS database", "database engine", "RDS"),
    "rds_host_os": Task(
        "patch the operating system of the hosts that run your RDS database", "operating system", "RDS"),
    "rds_security_group": Task(
        "allow port 3306 on the RDS database's security group from the office only", "network rules", "RDS"),
    "s3_who_reads": Task(
        "decide which IAM roles may read the bucket of customer exports", "access", "S3"),
    "s3_encryption": Task(
        "make sure the customer exports in S3 are encrypted with your key", "data", "S3"),
}  # fmt: skip
"""The lesson's tasks, keyed by a short name."""
