"""Read an EC2 instance-type name such as ``t3a.micro`` or ``c7gn.2xlarge``.

Most instance types are ``<family><generation><capabilities>[-flex].<size>``:

- family (series): one or more letters saying what the machine is tuned for
  (``t`` burstable, ``m`` general purpose, ``c`` compute, ``r`` memory...);
- generation: a number, higher is newer (and usually cheaper per unit of work);
  each family has only reached a certain generation (``m8`` yes, ``m99`` no);
- capabilities: optional letters for the processor or extras (``a`` AMD,
  ``g`` Graviton, ``d`` local NVMe disks, ``n`` faster networking...);
- ``-flex``: a cheaper variant that only 7th-generation-and-later Intel general
  purpose, compute and memory types offer (``m7i-flex``, ``c7i-flex``, ``r8i-flex``);
- size: ``nano`` ... ``xlarge``, ``Nxlarge`` for the multipliers AWS uses
  (2, 4, 8, 12, 16, 24, 48...), ``metal``, or ``metal-Nxl``.

A few families have their own shapes, which this parser also reads:

- high memory: ``u-6tb1.112xlarge`` (6 TB of RAM, generation 1) and
  ``u7i-12tb.224xlarge`` (generation 7, Intel, 12 TB);
- Mac: ``mac1.metal``, ``mac2.metal``, ``mac2-m2.metal``, ``mac2-m2pro.metal``,
  ``mac2-m1ultra.metal`` (always a whole Mac, so always ``metal``).

Accepting a name means it is *well-formed*, not that AWS sells that exact
size of that family in every region: check the AWS instance-type list for that.
The one family whose size list is checked exactly is ``t`` (burstable:
``nano`` to ``2xlarge``, never ``metal``).

:func:`parse_instance_type` returns an :class:`InstanceType` or raises
:class:`InvalidInstanceType` with a message saying what is wrong and how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Instance families (series) and what they are built for.
FAMILIES: dict[str, str] = {
    "t": "general purpose, burstable (cheap baseline CPU that can burst)",
    "m": "general purpose (balanced CPU and memory)",
    "a": "general purpose on Arm (first Graviton)",
    "mac": "macOS on Apple hardware",
    "c": "compute optimized (more CPU per GiB of memory)",
    "r": "memory optimized (more memory per vCPU)",
    "x": "memory intensive (very large memory)",
    "u": "high memory (terabytes of RAM, for large in-memory databases)",
    "z": "high single-thread frequency and memory",
    "p": "accelerated computing with GPUs for training",
    "g": "accelerated computing with GPUs for graphics and inference",
    "gr": "accelerated computing with GPUs, with more memory per vCPU than g",
    "inf": "accelerated computing with AWS Inferentia chips (ML inference)",
    "trn": "accelerated computing with AWS Trainium chips (ML training)",
    "dl": "deep learning accelerators",
    "f": "accelerated computing with FPGAs",
    "vt": "video transcoding accelerators",
    "i": "storage optimized (fast local NVMe, high I/O)",
    "im": "storage optimized (NVMe, balanced memory)",
    "is": "storage optimized (NVMe, dense storage)",
    "d": "dense HDD storage",
    "h": "HDD storage with high throughput",
    "hpc": "high performance computing",
}

#: The newest generation of each family when this was written (2025). A bigger
#: number is rejected as implausible; raise it here when AWS launches a new one.
NEWEST_GENERATION: dict[str, int] = {
    "t": 4, "m": 8, "a": 1, "mac": 2, "c": 8, "r": 8, "x": 8, "u": 7, "z": 1,
    "p": 6, "g": 6, "gr": 6, "inf": 2, "trn": 2, "dl": 2, "f": 2, "vt": 1,
    "i": 8, "im": 4, "is": 4, "d": 3, "h": 1, "hpc": 7,
}  # fmt: skip

#: Optional capability letters that follow the generation number.
CAPABILITIES: dict[str, str] = {
    "a": "AMD processor",
    "g": "AWS Graviton (Arm) processor",
    "i": "Intel processor",
    "b": "block storage (EBS) optimized",
    "d": "local NVMe instance-store disks",
    "e": "extra storage or memory",
    "n": "network and EBS optimized (more bandwidth)",
    "z": "high frequency",
    "q": "Qualcomm inference accelerators",
    "h": "high-performance (extra network bandwidth) variant",
}

#: Families that have a -flex variant: 7th generation or later, Intel ("i").
FLEX_FAMILIES = {"m", "c", "r"}
FLEX_MIN_GENERATION = 7

#: Apple chips named after mac2- (``mac2-m2pro.metal``).
MAC_CHIPS = {"m2": "Apple M2", "m2pro": "Apple M2 Pro", "m1ultra": "Apple M1 Ultra"}

_NAMED_SIZES = ["nano", "micro", "small", "medium", "large", "xlarge"]
#: The N in ``Nxlarge`` that AWS uses (there is no ``1xlarge``: that is ``xlarge``).
XLARGE_MULTIPLIERS = (2, 3, 4, 6, 8, 9, 10, 12, 16, 18, 24, 32, 36, 48, 56, 96, 112, 224, 480)
#: The N in ``metal-Nxl`` (a bare-metal server sold in a smaller slice).
METAL_MULTIPLIERS = (16, 24, 32, 48, 96)
#: Burstable (t) types come only in these sizes.
BURSTABLE_SIZES = ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge")

# Longest families first so "inf2" is read as family "inf", not "i" + "nf".
# "u" and "mac" have their own shapes and are matched separately.
_STANDARD_FAMILIES = [f for f in FAMILIES if f not in ("u", "mac")]
_FAMILY_ALTERNATION = "|".join(sorted(_STANDARD_FAMILIES, key=len, reverse=True))
_PATTERN = re.compile(
    rf"^(?P<family>{_FAMILY_ALTERNATION})(?P<generation>[1-9]\d?)"
    r"(?P<capabilities>[a-z]*)(?P<flex>-flex)?\.(?P<size>[a-z0-9-]+)$"
)
_HIGH_MEMORY_V1 = re.compile(r"^u-(?P<tb>[1-9]\d?)tb(?P<generation>1)\.(?P<size>[a-z0-9-]+)$")
_HIGH_MEMORY_V7 = re.compile(
    r"^u(?P<generation>7)(?P<capabilities>[a-z]*)-(?P<tb>[1-9]\d?)tb\.(?P<size>[a-z0-9-]+)$"
)
_MAC = re.compile(r"^mac(?P<generation>[1-9])(?:-(?P<chip>[a-z0-9]+))?\.(?P<size>[a-z0-9-]+)$")
_SIZE_PATTERN = re.compile(
    r"^(?:nano|micro|small|medium|large|xlarge|(?P<n>[1-9]\d*)xlarge|metal(?:-(?P<m>\d+)xl)?)$"
)


class InvalidInstanceType(ValueError):
    """Raised for a name that is not a valid EC2 instance type; the message says why."""


@dataclass(frozen=True)
class InstanceType:
    """The parts of an EC2 instance-type name."""

    name: str
    family: str
    generation: int
    capabilities: str
    flex: bool
    size: str
    memory_tb: int | None = None  # high-memory (u) types: terabytes of RAM
    chip: str = ""  # mac2-<chip>: the Apple chip

    @property
    def family_meaning(self) -> str:
        """What the family (series) is built for."""
        return FAMILIES[self.family]

    @property
    def capability_meanings(self) -> list[str]:
        """The meaning of each capability letter, in order."""
        return [CAPABILITIES[letter] for letter in self.capabilities]

    @property
    def size_rank(self) -> int:
        """A sortable number: bigger sizes rank higher (``metal`` is the largest)."""
        return size_rank(self.size)

    def explain(self) -> str:
        """Return a few readable lines that explain every part of the name."""
        lines = [
            f"{self.name}",
            f"  family      {self.family:<10} {self.family_meaning}",
            f"  generation  {self.generation:<10} higher is newer",
        ]
        for letter, meaning in zip(self.capabilities, self.capability_meanings, strict=False):
            lines.append(f"  capability  {letter:<10} {meaning}")
        if self.memory_tb is not None:
            lines.append(f"  memory      {str(self.memory_tb) + 'tb':<10} {self.memory_tb} TB of RAM")
        if self.chip:
            lines.append(f"  chip        {self.chip:<10} {MAC_CHIPS[self.chip]}")
        if self.flex:
            lines.append("  flex        -flex      lower price, runs at full speed most of the time")
        lines.append(f"  size        {self.size:<10} {describe_size(self.size)}")
        if self.family != "t":
            lines.append("  (well-formed; check the AWS instance-type list for availability)")
        return "\n".join(lines)


def size_rank(size: str) -> int:
    """Order sizes: nano < micro < ... < xlarge < 2xlarge < ... < metal."""
    _check_size(size)
    if size in _NAMED_SIZES:
        return _NAMED_SIZES.index(size)
    if size.endswith("xlarge"):
        return len(_NAMED_SIZES) - 1 + int(size.removesuffix("xlarge"))
    return 10_000  # metal: the whole physical server


def describe_size(size: str) -> str:
    """Describe a size in words, e.g. ``'2xlarge'`` -> twice an xlarge."""
    if size == "metal":
        return "bare metal: the whole physical server, no hypervisor"
    if size.startswith("metal-"):
        factor = size.removeprefix("metal-").removesuffix("xl")
        return f"bare metal, no hypervisor, sold as {factor} x an xlarge"
    if size.endswith("xlarge") and size != "xlarge":
        factor = size.removesuffix("xlarge")
        return f"{factor} x an xlarge (about {4 * int(factor)} vCPUs in most families)"
    notes = {
        "nano": "the smallest size",
        "micro": "very small (a t3.micro is in the free tier)",
        "small": "small",
        "medium": "medium",
        "large": "about 2 vCPUs in most families",
        "xlarge": "about 4 vCPUs in most families",
    }
    return notes[size]


def is_valid_size(size: str) -> bool:
    """True when ``size`` is in the size vocabulary AWS uses (``micro``, ``2xlarge``, ``metal``...)."""
    try:
        _check_size(size)
    except InvalidInstanceType:
        return False
    return True


def _check_size(size: str) -> None:
    """Raise unless ``size`` is in the size vocabulary AWS uses."""
    match = _SIZE_PATTERN.match(size)
    if not match:
        raise InvalidInstanceType(
            f"'{size}' is not an EC2 size; use nano, micro, small, medium, large, xlarge, "
            "2xlarge, 4xlarge... or metal."
        )
    if match.group("n") is not None and int(match.group("n")) not in XLARGE_MULTIPLIERS:
        n = int(match.group("n"))
        hint = " (one xlarge is written 'xlarge')" if n == 1 else ""
        raise InvalidInstanceType(
            f"'{size}' is not an EC2 size{hint}; Nxlarge sizes use N in "
            f"{', '.join(map(str, XLARGE_MULTIPLIERS))}."
        )
    if match.group("m") is not None and int(match.group("m")) not in METAL_MULTIPLIERS:
        raise InvalidInstanceType(
            f"'{size}' is not an EC2 size; metal slices are metal-Nxl with N in "
            f"{', '.join(map(str, METAL_MULTIPLIERS))}."
        )


def _check_generation(name: str, family: str, generation: int) -> None:
    newest = NEWEST_GENERATION[family]
    if generation > newest:
        raise InvalidInstanceType(
            f"'{name}': the '{family}' family has reached generation {newest} so far, "
            f"not {generation}. If AWS has launched a newer one, check its instance-type list."
        )


def _check_basic_form(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInstanceType("Give an instance type such as 't3.micro'.")
    if name != name.strip():
        raise InvalidInstanceType(f"'{name}' has spaces around it; remove them.")
    if name != name.lower():
        raise InvalidInstanceType(
            f"'{name}' has capitals; instance types are lower case, e.g. '{name.lower()}'."
        )
    if "." not in name:
        raise InvalidInstanceType(
            f"'{name}' has no '.'; a type is <family><generation>[capabilities].<size>, e.g. 't3.micro'."
        )
    return name


def _check_capabilities(name: str, capabilities: str) -> None:
    unknown = [c for c in capabilities if c not in CAPABILITIES]
    if unknown:
        known = ", ".join(CAPABILITIES)
        raise InvalidInstanceType(
            f"'{name}': capability letter(s) {', '.join(unknown)} unknown; known letters: {known}."
        )
    if len(set(capabilities)) != len(capabilities):
        raise InvalidInstanceType(f"'{name}' repeats a capability letter.")


def _parse_special(name: str, size: str) -> InstanceType | None:
    """High-memory (u) and Mac types, which have their own shapes; None if neither."""
    for pattern in (_HIGH_MEMORY_V1, _HIGH_MEMORY_V7):
        match = pattern.match(name)
        if match:
            capabilities = match.groupdict().get("capabilities") or ""
            _check_capabilities(name, capabilities)
            if size_rank(size) < size_rank("56xlarge"):
                raise InvalidInstanceType(
                    f"'{name}': high-memory types come in very large sizes only (56xlarge and up, or metal)."
                )
            return InstanceType(name, "u", int(match.group("generation")), capabilities, False, size,
                                memory_tb=int(match.group("tb")))  # fmt: skip
    if name.startswith("u-") or re.match(r"^u\d", name):
        raise InvalidInstanceType(
            f"'{name}' is not a high-memory type; they read 'u-6tb1.112xlarge' or 'u7i-12tb.224xlarge'."
        )
    match = _MAC.match(name)
    if match:
        generation, chip = int(match.group("generation")), match.group("chip") or ""
        _check_generation(name, "mac", generation)
        if chip and (generation != 2 or chip not in MAC_CHIPS):
            raise InvalidInstanceType(f"'{name}': Mac chip variants are mac2-{', mac2-'.join(MAC_CHIPS)}.")
        if size != "metal":
            raise InvalidInstanceType(
                f"'{name}': Mac instances are whole Macs, so the size is always 'metal'."
            )
        return InstanceType(name, "mac", generation, "", False, size, chip=chip)
    return None


def parse_instance_type(name: str) -> InstanceType:
    """Split an instance-type name into its parts, or explain why it is invalid.

    >>> parse_instance_type("t3a.micro").capabilities
    'a'
    """
    name = _check_basic_form(name)
    prefix, size = name.split(".", 1)
    _check_size(size)
    special = _parse_special(name, size)
    if special is not None:
        return special
    match = _PATTERN.match(name)
    if not match:
        raise InvalidInstanceType(_explain_prefix_error(prefix))
    family, generation = match.group("family"), int(match.group("generation"))
    capabilities, flex = match.group("capabilities"), bool(match.group("flex"))
    _check_capabilities(name, capabilities)
    _check_generation(name, family, generation)
    if family == "t" and size not in BURSTABLE_SIZES:
        raise InvalidInstanceType(
            f"'{name}': burstable (t) types come only as {', '.join(BURSTABLE_SIZES)}; "
            "there is no bigger size and no metal."
        )
    if flex:
        if not (family in FLEX_FAMILIES and generation >= FLEX_MIN_GENERATION and capabilities == "i"):
            raise InvalidInstanceType(
                f"'{name}': -flex exists only for 7th-generation-or-later Intel m, c and r types "
                "(m7i-flex, c7i-flex, r8i-flex...)."
            )
        if size.startswith("metal"):
            raise InvalidInstanceType(f"'{name}': flex types are virtual machines; there is no flex metal.")
    return InstanceType(name, family, generation, capabilities, flex, size)


def _explain_prefix_error(prefix: str) -> str:
    letters = re.match(r"^[a-z]*", prefix).group(0)  # type: ignore[union-attr]
    if not letters:
        return f"'{prefix}' must start with a family letter such as t, m, c or r."
    family_match = re.match(rf"^({_FAMILY_ALTERNATION})", prefix)
    if family_match is None:
        return f"'{letters}' is not an EC2 family; known families: {', '.join(FAMILIES)}."
    rest = prefix[len(family_match.group(1)) :]
    if not rest or not rest[0].isdigit():
        return f"'{prefix}' needs a generation number after the family, e.g. '{family_match.group(1)}3'."
    if rest[0] == "0":
        return f"'{prefix}': generations start at 1."
    return f"'{prefix}' does not read as <family><generation>[capabilities][-flex]."


def is_valid_instance_type(name: str) -> bool:
    """Return True when :func:`parse_instance_type` accepts ``name``."""
    try:
        parse_instance_type(name)
    except InvalidInstanceType:
        return False
    return True


def explain_or_error(name: str) -> str:
    """Return the explanation of ``name``, or the reason it is invalid (for widgets)."""
    try:
        return parse_instance_type(name).explain()
    except InvalidInstanceType as error:
        return f"Invalid: {error}"
