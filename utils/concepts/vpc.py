"""Networks on AWS: split a VPC's address range into subnets, and evaluate security groups.

A VPC owns an IPv4 range written in CIDR notation (``10.0.0.0/16``): the
address, then after the slash how many leading bits are fixed (16 fixed bits
leave 32 - 16 = 16 free bits, so 2**16 = 65,536 addresses). Use a private range
(RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) or the shared address space
100.64.0.0/10. AWS also accepts publicly routable ranges, but they clash with
real internet addresses, so :func:`check_vpc_cidr` warns about them.
You carve it into subnets, each living in exactly one availability zone.
AWS keeps five addresses of every subnet for itself (network address, VPC
router, DNS, one reserved for future use, broadcast), and a VPC or subnet must
be between ``/16`` and ``/28``.

Security groups are instance-level firewalls made of *allow* rules only: traffic that
no rule allows is denied, in each direction. A new group starts with no inbound rule
(so all inbound traffic is denied) and one outbound rule that allows all traffic to
anywhere (so outbound is open until you narrow or remove that rule). Replies to allowed
traffic are let through (groups are *stateful*). :func:`is_allowed` evaluates either
direction; :func:`new_security_group` gives the rules a new group starts with.
"""

from __future__ import annotations

import ipaddress
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

AWS_RESERVED_PER_SUBNET = 5
MIN_PREFIX, MAX_PREFIX = 16, 28
#: Ranges recommended for a VPC: RFC 1918 private space and RFC 6598 shared space.
RECOMMENDED_RANGES = tuple(
    ipaddress.ip_network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
#: Ranges AWS does not allow for a VPC at all.
FORBIDDEN_RANGES = tuple(
    ipaddress.ip_network(r)
    for r in ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4")
)


class PublicRangeWarning(UserWarning):
    """A VPC range that is publicly routable: allowed by AWS, but a bad idea."""


@dataclass(frozen=True)
class Subnet:
    """One subnet: its name, zone, range and how many addresses you can use."""

    name: str
    az: str
    cidr: str
    usable_hosts: int


def usable_hosts(cidr: str) -> int:
    """Addresses you can give to resources in an AWS subnet (total minus 5 reserved)."""
    network = ipaddress.ip_network(cidr)
    return network.num_addresses - AWS_RESERVED_PER_SUBNET


def check_vpc_cidr(cidr: str) -> ipaddress.IPv4Network:
    """Validate a VPC range: IPv4, a network address, size /16-/28, not a reserved range.

    Private (RFC 1918) and shared (100.64.0.0/10) ranges pass quietly. A publicly
    routable range is allowed, as AWS allows it, but raises a :class:`PublicRangeWarning`:
    instances could not reach the real owners of those addresses on the internet.
    """
    try:
        network = ipaddress.ip_network(cidr)
    except ValueError as error:
        raise ValueError(
            f"{cidr!r} is not a network range: {error}. "
            "Write it like '10.0.0.0/16' (the host bits must be zero)."
        ) from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise ValueError("Use an IPv4 range for the VPC's primary CIDR block.")
    if not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX:
        raise ValueError(
            f"A VPC must be between /{MIN_PREFIX} and /{MAX_PREFIX}; {cidr} is /{network.prefixlen}."
        )
    forbidden = next((r for r in FORBIDDEN_RANGES if network.overlaps(r)), None)
    if forbidden is not None:
        raise ValueError(
            f"{cidr} overlaps {forbidden}, which is reserved (loopback, link-local, multicast...) "
            "and cannot be used for a VPC; use a range inside 10.0.0.0/8, for example."
        )
    if not any(network.subnet_of(r) for r in RECOMMENDED_RANGES):
        warnings.warn(
            f"{cidr} is publicly routable address space. AWS accepts it, but your resources could "
            "not reach the real owners of those addresses; prefer 10.0.0.0/8, 172.16.0.0/12, "
            "192.168.0.0/16 or 100.64.0.0/10.",
            PublicRangeWarning,
            stacklevel=2,
        )
    return network


def split_vpc(cidr: str, azs: Sequence[str], tiers: Sequence[str] = ("public", "private")) -> list[Subnet]:
    """Give every (tier, zone) pair an equal, non-overlapping subnet of ``cidr``.

    The range is split into the smallest power of two >= tiers x zones, so
    ``10.0.0.0/16`` over 2 tiers and 3 zones yields eight /19 blocks, six used
    and two left spare for later.
    """
    network = check_vpc_cidr(cidr)
    if not azs or not tiers:
        raise ValueError("Give at least one availability zone and one tier.")
    if len(set(azs)) != len(azs):
        raise ValueError("Each availability zone must appear once.")
    needed = len(azs) * len(tiers)
    extra_bits = (needed - 1).bit_length()
    new_prefix = network.prefixlen + extra_bits
    if new_prefix > MAX_PREFIX:
        raise ValueError(
            f"{cidr} is too small for {needed} subnets "
            f"(each would be /{new_prefix}, smaller than /{MAX_PREFIX}); "
            "use a larger VPC range or fewer zones/tiers."
        )
    blocks = network.subnets(new_prefix=new_prefix)
    subnets = []
    for tier in tiers:
        for az in azs:
            block = str(next(blocks))
            subnets.append(Subnet(f"{tier}-{az}", az, block, usable_hosts(block)))
    return subnets


def subnet_of(ip: str, subnets: Iterable[Subnet]) -> Subnet | None:
    """Return the subnet that contains ``ip``, or None when it is outside them all."""
    address = ipaddress.ip_address(ip)
    for subnet in subnets:
        if address in ipaddress.ip_network(subnet.cidr):
            return subnet
    return None


@dataclass(frozen=True)
class Rule:
    """A security-group rule: protocol, port range and the remote address range it allows.

    ``source`` is the remote range: where inbound traffic may come from, or (in an outbound
    rule) where outbound traffic may go.
    """

    protocol: str  # "tcp", "udp" or "all"
    from_port: int
    to_port: int
    source: str  # CIDR, e.g. "203.0.113.7/32" or "0.0.0.0/0"
    description: str = ""


#: The outbound rule every new security group starts with (AWS's default egress rule).
DEFAULT_OUTBOUND_RULE = Rule("all", 0, 65535, "0.0.0.0/0", "default outbound rule: all traffic, anywhere")


def new_security_group() -> dict[str, list[Rule]]:
    """The rules of a newly created security group: no inbound rule, the default outbound rule."""
    return {"inbound": [], "outbound": [DEFAULT_OUTBOUND_RULE]}


def is_allowed(
    rules: Iterable[Rule], protocol: str, port: int, remote_ip: str, direction: str = "inbound"
) -> tuple[bool, str]:
    """Would a packet pass these rules? Returns ``(allowed, reason)``.

    ``rules`` are the group's rules for ``direction`` ("inbound": ``remote_ip`` is the
    sender; "outbound": it is the destination). Security groups only have allow rules;
    anything no rule matches is denied.
    """
    if direction not in ("inbound", "outbound"):
        raise ValueError(f"direction must be 'inbound' or 'outbound', not {direction!r}.")
    address = ipaddress.ip_address(remote_ip)
    way = "from" if direction == "inbound" else "to"
    for rule in rules:
        protocol_ok = rule.protocol == "all" or rule.protocol == protocol
        if (
            protocol_ok
            and rule.from_port <= port <= rule.to_port
            and address in ipaddress.ip_network(rule.source)
        ):
            label = rule.description or f"{rule.protocol} {rule.from_port}-{rule.to_port} {way} {rule.source}"
            return True, f"allowed by rule: {label}"
    return False, f"denied: no {direction} rule matches (security groups deny what no rule allows)"


def overly_open_rules(rules: Iterable[Rule]) -> list[Rule]:
    """Rules open to the whole internet on a port other than web traffic (80, 443)."""
    return [
        r
        for r in rules
        if r.source in ("0.0.0.0/0", "::/0")
        and not (r.protocol == "tcp" and r.from_port == r.to_port and r.from_port in (80, 443))
    ]
