"""AWS regions and availability zones: their names, and choosing one for your users.

A small static table of real AWS regions (code, city, approximate coordinates,
country, and an approximate on-demand price of one ``t3.micro`` instance in
dollars per hour) lets a learner pick a region by the four usual criteria:
latency to users, cost, compliance (where data may live) and service
availability. Prices are rounded list prices at the time of writing, for
teaching only; always check the AWS pricing pages before deciding.

Almost every AWS region offers three or more availability zones (new accounts see two in a
few older regions, such as us-west-1). Zone letters
run from ``a`` to at most ``f`` (us-east-1 has six) and need not be consecutive:
ca-central-1's zones are ``a``, ``b`` and ``d``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Region:
    """One AWS region: its code, where it is, and an approximate price index."""

    code: str
    city: str
    lat: float
    lon: float
    country: str  # ISO 3166 alpha-2 country code of the region's location
    in_eu: bool
    opt_in: bool  # must be enabled on the account before use
    t3_micro_usd_hour: float  # approximate Linux on-demand price, for teaching


REGIONS: tuple[Region, ...] = (
    Region("us-east-1", "N. Virginia", 39.04, -77.49, "US", False, False, 0.0104),
    Region("us-east-2", "Ohio", 39.96, -83.00, "US", False, False, 0.0104),
    Region("us-west-1", "N. California", 37.35, -121.96, "US", False, False, 0.0124),
    Region("us-west-2", "Oregon", 45.84, -119.70, "US", False, False, 0.0104),
    Region("ca-central-1", "Montreal", 45.50, -73.57, "CA", False, False, 0.0116),
    Region("sa-east-1", "Sao Paulo", -23.55, -46.63, "BR", False, False, 0.0168),
    Region("eu-west-1", "Ireland", 53.35, -6.26, "IE", True, False, 0.0114),
    Region("eu-west-2", "London", 51.51, -0.13, "GB", False, False, 0.0118),
    Region("eu-west-3", "Paris", 48.86, 2.35, "FR", True, False, 0.0118),
    Region("eu-central-1", "Frankfurt", 50.11, 8.68, "DE", True, False, 0.0120),
    Region("eu-north-1", "Stockholm", 59.33, 18.07, "SE", True, False, 0.0108),
    Region("eu-south-1", "Milan", 45.46, 9.19, "IT", True, True, 0.0122),
    Region("me-south-1", "Bahrain", 26.07, 50.56, "BH", False, True, 0.0127),
    Region("af-south-1", "Cape Town", -33.92, 18.42, "ZA", False, True, 0.0138),
    Region("ap-south-1", "Mumbai", 19.08, 72.88, "IN", False, False, 0.0112),
    Region("ap-southeast-1", "Singapore", 1.35, 103.82, "SG", False, False, 0.0132),
    Region("ap-southeast-2", "Sydney", -33.87, 151.21, "AU", False, False, 0.0132),
    Region("ap-east-1", "Hong Kong", 22.32, 114.17, "HK", False, True, 0.0146),
    Region("ap-northeast-1", "Tokyo", 35.68, 139.69, "JP", False, False, 0.0136),
    Region("ap-northeast-2", "Seoul", 37.57, 126.98, "KR", False, False, 0.0130),
)

GEOGRAPHIES = {
    "us": "the United States",
    "ca": "Canada",
    "sa": "South America",
    "eu": "Europe",
    "me": "the Middle East",
    "af": "Africa",
    "ap": "Asia Pacific",
    "il": "Israel",
    "mx": "Mexico",
}
#: How each direction word reads in a sentence ("in the centre of Israel").
_DIRECTION_WORDS = {
    "central": "centre",
    "north": "north",
    "south": "south",
    "east": "east",
    "west": "west",
    "northeast": "north-east",
    "northwest": "north-west",
    "southeast": "south-east",
    "southwest": "south-west",
}
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_DIRECTIONS = (
    "central",
    "north",
    "south",
    "east",
    "west",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
)
_REGION_RE = re.compile(
    rf"^(?P<geo>[a-z]{{2}})(?P<gov>-gov)?-(?P<direction>{'|'.join(_DIRECTIONS)})-(?P<number>[1-9]\d*)$"
)
_AZ_RE = re.compile(r"^(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d+)(?P<letter>[a-z])$")
#: No region has more than six zones, so zone letters stop at "f".
MAX_ZONES_PER_REGION = 6
_ZONE_LETTERS = "abcdef"

EARTH_RADIUS_KM = 6371.0
FIBRE_KM_PER_MS = 200.0  # light in glass travels about 200 km per millisecond (~2/3 of c)
ROUTE_FACTOR = 1.4  # cables do not follow great circles


def region(code: str) -> Region:
    """Return the :class:`Region` with this code, or explain which codes exist."""
    for item in REGIONS:
        if item.code == code:
            return item
    raise KeyError(f"Unknown region {code!r}; this table has: {', '.join(r.code for r in REGIONS)}.")


def explain_region_code(code: str) -> str:
    """Read a region code such as ``us-east-1`` into words."""
    match = _REGION_RE.match(code)
    if not match:
        raise ValueError(
            f"{code!r} is not a region code; codes look like <geography>-<direction>-<number>, "
            "e.g. 'eu-west-1'."
        )
    geo = GEOGRAPHIES.get(match.group("geo"), f"geography '{match.group('geo')}'")
    gov = " (GovCloud, for US government workloads)" if match.group("gov") else ""
    n = int(match.group("number"))
    where = f"in the {_DIRECTION_WORDS[match.group('direction')]} of {geo}"
    if n <= len(_ORDINALS):
        return f"{code}: the {_ORDINALS[n - 1]} region {where}{gov}"
    return f"{code}: region number {n} {where}{gov}"


def parse_az(name: str) -> tuple[str, str]:
    """Split an availability-zone name into ``(region code, zone letter)``.

    >>> parse_az("us-east-1a")
    ('us-east-1', 'a')
    """
    match = _AZ_RE.match(name)
    if not match or not _REGION_RE.match(match.group("region")):
        raise ValueError(
            f"{name!r} is not an availability-zone name; it should be a region code plus one letter, "
            "e.g. 'us-east-1a'."
        )
    if match.group("letter") not in _ZONE_LETTERS:
        raise ValueError(
            f"{name!r}: zone letter {match.group('letter')!r} is out of range; no region has more than "
            f"{MAX_ZONES_PER_REGION} zones, so letters run from 'a' to 'f'."
        )
    return match.group("region"), match.group("letter")


def az_names(code: str, count: int = 3) -> list[str]:
    """Return ``count`` zone names for a region: ``us-east-1a``, ``us-east-1b``...

    Almost every region offers three or more zones (a few older ones show new accounts two);
    none has more than six.
    The names are illustrative: a few regions skip letters (ca-central-1 has
    ``a``, ``b`` and ``d``), so check the console for the real ones.
    """
    if not _REGION_RE.match(code):
        raise ValueError(f"{code!r} is not a region code such as 'us-east-1'.")
    if not 1 <= count <= MAX_ZONES_PER_REGION:
        raise ValueError(f"Regions have at most {MAX_ZONES_PER_REGION} zones; ask for 1-6.")
    return [f"{code}{letter}" for letter in _ZONE_LETTERS[:count]]


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in km between two points on Earth (haversine formula)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def estimated_rtt_ms(distance_km: float) -> float:
    """A rough round-trip time over fibre for a distance (real networks add more)."""
    return 2 * distance_km * ROUTE_FACTOR / FIBRE_KM_PER_MS


@dataclass(frozen=True)
class UserGroup:
    """Where some of your users are, and what share of the traffic they make."""

    name: str
    lat: float
    lon: float
    weight: float = 1.0


@dataclass(frozen=True)
class RegionScore:
    """How one candidate region scored; lower ``score`` is better.

    ``usd_hour`` is the on-demand price of one t3.micro in that region.
    """

    code: str
    city: str
    latency_ms: float
    usd_hour: float
    score: float


#: Fixed yardsticks for the score, so a region's score never depends on which
#: other regions are candidates: latency is counted in units of 100 ms, and price
#: as how many times the cheapest region in the whole table it costs.
LATENCY_REFERENCE_MS = 100.0
PRICE_REFERENCE_USD_HOUR = min(r.t3_micro_usd_hour for r in REGIONS)


def pick_region(
    users: Iterable[UserGroup],
    *,
    latency_weight: float = 0.7,
    cost_weight: float = 0.3,
    allowed_countries: set[str] | None = None,
    eu_only: bool = False,
    available_in: set[str] | None = None,
    include_opt_in: bool = False,
    regions: Iterable[Region] = REGIONS,
) -> list[RegionScore]:
    """Rank regions for ``users``: best (lowest score) first.

    Compliance (``allowed_countries``, ``eu_only``) and service availability
    (``available_in``: the region codes where a service you need exists) are hard
    filters. Latency (traffic-weighted round-trip estimate) and cost are scaled
    against fixed references (latency / 100 ms; price / the cheapest price in the
    full table, minus 1, so the cheapest region adds 0) and mixed by the two weights.
    Because the references are fixed, removing candidates never reorders the rest.
    """
    users = list(users)
    if not users:
        raise ValueError("Give at least one UserGroup: where are your users?")
    if latency_weight < 0 or cost_weight < 0 or latency_weight + cost_weight == 0:
        raise ValueError("Weights must be non-negative and not both zero.")
    candidates = [
        r
        for r in regions
        if (allowed_countries is None or r.country in allowed_countries)
        and (not eu_only or r.in_eu)
        and (available_in is None or r.code in available_in)
        and (include_opt_in or not r.opt_in)
    ]
    if not candidates:
        raise ValueError("No region passes the compliance and availability filters; relax one of them.")
    total_weight = sum(u.weight for u in users)
    latencies = [
        sum(u.weight * estimated_rtt_ms(great_circle_km(u.lat, u.lon, r.lat, r.lon)) for u in users)
        / total_weight
        for r in candidates
    ]
    prices = [r.t3_micro_usd_hour for r in candidates]
    lat_n = [latency / LATENCY_REFERENCE_MS for latency in latencies]
    cost_n = [price / PRICE_REFERENCE_USD_HOUR - 1 for price in prices]
    weight_sum = latency_weight + cost_weight
    exact = [(latency_weight * ln + cost_weight * cn) / weight_sum
             for ln, cn in zip(lat_n, cost_n, strict=True)]
    # Sort on the exact score (the rounded one is for display), so two regions whose scores
    # round alike still come out in the order their real scores give.
    ranked = sorted(zip(exact, candidates, latencies, prices, strict=True),
                    key=lambda item: (item[0], item[1].code))
    return [RegionScore(r.code, r.city, round(lat, 1), price, round(score, 3))
            for score, r, lat, price in ranked]


def format_ranking(scores: list[RegionScore], top: int = 5) -> str:
    """A small fixed-width table of the best ``top`` regions (used by the lesson's widget)."""
    header = f"{'rank':<5}{'region':<16}{'city':<15}{'latency ms':>11}{'t3.micro $/h':>14}{'score':>7}"
    lines = [header]
    for rank, s in enumerate(scores[:top], start=1):
        lines.append(
            f"{rank:<5}{s.code:<16}{s.city:<15}{s.latency_ms:>11.1f}{s.usd_hour:>14.4f}{s.score:>7.3f}"
        )
    return "\n".join(lines)


def plot_regions(
    users: Iterable[UserGroup] = (),
    best: str | None = None,
    extent: tuple[float, float, float, float] = (-180, 180, -60, 75),
    ax: Any = None,
) -> Any:
    """Plot regions, users and the chosen region on a lon/lat grid.

    ``extent`` = (lon0, lon1, lat0, lat1) zooms in; regions outside it are not drawn.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.8))
    lon0, lon1, lat0, lat1 = extent
    for r in REGIONS:
        if not (lon0 <= r.lon <= lon1 and lat0 <= r.lat <= lat1):
            continue
        chosen = r.code == best
        ax.scatter(r.lon, r.lat, s=90 if chosen else 30, color="#d62728" if chosen else "#1f77b4", zorder=3)
        ax.annotate(r.code, (r.lon, r.lat), textcoords="offset points", xytext=(4, 3), fontsize=7)
    for u in users:
        ax.scatter(u.lon, u.lat, s=40 + 40 * u.weight, marker="^", color="#2ca02c", zorder=2)
        ax.annotate(
            u.name, (u.lon, u.lat), textcoords="offset points", xytext=(4, -10), fontsize=7, color="#2ca02c"
        )
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.grid(alpha=0.3)
    ax.set_title("AWS regions (blue), users (green triangles), chosen region (red)")
    return ax
