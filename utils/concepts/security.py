"""Security as a data engineer practises it: least privilege and protecting sensitive values.

:func:`is_allowed` evaluates grants the way IAM and database permissions do:
deny unless something explicitly allows. :func:`unused_grants` finds
permissions a principal holds but never used (candidates to remove).
:func:`mask_card` and :func:`pseudonymise` keep sensitive data out of places it
does not need to be.

:func:`mysql_least_privilege_demo` shows the same idea on a real MySQL/MariaDB
server; it is optional and no lesson cell depends on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any


@dataclass(frozen=True)
class Grant:
    """``principal`` may do ``action`` on resources matching ``resource`` (``*`` wildcards)."""

    principal: str
    action: str
    resource: str


def is_allowed(grants: Iterable[Grant], principal: str, action: str, resource: str) -> tuple[bool, str]:
    """Return ``(allowed, reason)``; with no matching grant the answer is no (default deny)."""
    for grant in grants:
        if (
            grant.principal == principal
            and fnmatchcase(action, grant.action)
            and fnmatchcase(resource, grant.resource)
        ):
            return True, f"allowed by grant {grant.action} on {grant.resource}"
    return False, f"denied: {principal} has no grant for {action} on {resource}"


def unused_grants(grants: Iterable[Grant], used: Iterable[tuple[str, str, str]]) -> list[Grant]:
    """Grants that no recorded ``(principal, action, resource)`` request needed."""
    used = list(used)
    return [
        g
        for g in grants
        if not any(
            p == g.principal and fnmatchcase(a, g.action) and fnmatchcase(r, g.resource) for p, a, r in used
        )
    ]


def is_overbroad(grant: Grant) -> bool:
    """True for grants with a wildcard action or a wildcard over every resource."""
    return grant.action == "*" or grant.resource == "*"


def mask_card(number: str, visible: int = 4) -> str:
    """Hide all but the last ``visible`` digits of a card number."""
    digits = [c for c in number if c.isdigit()]
    if len(digits) < visible:
        raise ValueError("Not enough digits to mask.")
    return "*" * (len(digits) - visible) + "".join(digits[-visible:])


def pseudonymise(value: str, salt: str) -> str:
    """A stable, non-reversible stand-in for an identifier (same input -> same token)."""
    return hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()[:12]


def least_privilege_demo(reader_connection: Any) -> list[str]:
    """Live demo on MySQL/MariaDB: what the ETL's read-only user may and may not do.

    ``reader_connection`` is an open DB-API connection as that user. Shows its
    grants (password hashes removed), a SELECT that works and a DELETE that the
    server refuses. Returns what happened, line by line.
    """
    import re

    log = []
    with reader_connection.cursor() as cursor:
        cursor.execute("SHOW GRANTS FOR CURRENT_USER()")
        for (grant,) in cursor.fetchall():
            grant = re.sub(r" IDENTIFIED BY PASSWORD '[^']*'", "", grant)
            log.append(f"grant:   {re.sub(r'`[^`]*`@`[^`]*`', 'the ETL user', grant)}")
        cursor.execute("SELECT COUNT(*) > 0 FROM customers")
        log.append(f"SELECT:  allowed (customers visible: {bool(cursor.fetchone()[0])})")
        try:
            cursor.execute("DELETE FROM customers WHERE customerNumber = -1")
            log.append("DELETE:  allowed: this user has too many privileges!")
        except Exception as error:  # pymysql's OperationalError 1142: command denied
            code = error.args[0] if error.args else "?"
            log.append(f"DELETE:  refused by the server (error {code}: DELETE command denied)")
    return log
