"""Security as a data engineer practises it: least privilege and protecting sensitive values.

:func:`is_allowed` evaluates grants the way IAM and database permissions do:
deny unless something explicitly allows. :func:`unused_grants` finds
permissions a principal holds but never used (candidates to remove).
:func:`mask_card` and :func:`pseudonymise` keep sensitive data out of places it
does not need to be.

:func:`least_privilege_demo` and :func:`probe_privilege` show the same idea on a
real MySQL/MariaDB server: the server, not our code, refuses what was not granted.
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


# --- asking the server: may this account run this statement? ----------------------------------

DENIED_CODES: frozenset[int] = frozenset({1044, 1045, 1142, 1143, 1227, 1370, 1410})
"""MySQL/MariaDB error codes that mean "you lack the privilege": database (1044), login (1045),
table (1142), column (1143), global privilege such as CREATE USER (1227), routine (1370), and
creating a user through GRANT (1410). Any other error (1146 no such table, 1064 bad SQL...)
says nothing about privileges."""


def error_code(error: BaseException) -> int | None:
    """The server's error number of a DB-API error (pymysql puts it first in ``args``), else None."""
    code = error.args[0] if error.args else None
    return code if isinstance(code, int) else None


def probe_privilege(conn: Any, sql: str) -> str:
    """Run ``sql`` on ``conn`` and roll it back; ``"allowed"``, ``"denied"`` or ``"error"``.

    The server checks privileges before it touches any row, so a refused statement changes
    nothing; an allowed one is rolled back, so probing a ``DELETE`` deletes nothing (use
    statements that match no rows anyway, and no DDL: ``DROP``/``CREATE`` commit at once).
    """
    with conn.cursor() as cursor:
        try:
            cursor.execute(sql)
            cursor.fetchall()
        except Exception as error:  # pymysql raises several classes; the code decides
            return "denied" if error_code(error) in DENIED_CODES else "error"
        finally:
            conn.rollback()
    return "allowed"


PROBES: tuple[tuple[str, str], ...] = (
    ("SELECT COUNT(*) FROM customers", "a read of a table in the source database"),
    ("DELETE FROM customers WHERE customerNumber = -1", "a delete (it matches no row, and is rolled back)"),
    ("UPDATE products SET MSRP = MSRP WHERE productCode = 'none'", "an update that matches no row"),
    ("DROP TABLE l10_no_such_table", "dropping a table that does not exist"),
    ("SELECT * FROM l10_no_such_table", "reading a table that does not exist"),
    ("SELECT customerName FROM", "a statement with a syntax error"),
    ("SHOW TABLES FROM mysql", "listing the server's own user database"),
    ("SELECT User FROM mysql.user", "reading the server's table of accounts"),
)
"""Statements safe to probe as any lab account (none changes anything), and what each one is."""


# --- zero trust: the network is not a credential --------------------------------------------------------


def perimeter_allows(request: dict[str, Any], grants: Iterable[Grant]) -> bool:
    """The old "castle and moat" rule: anything from inside the office network is trusted.

    Shown for contrast: a stolen laptop on the office Wi-Fi gets in without a login.
    """
    if request.get("network") == "office":
        return True
    return zero_trust_allows(request, grants)


def zero_trust_allows(request: dict[str, Any], grants: Iterable[Grant]) -> bool:
    """Zero trust: every request proves who it is and is checked against the grants, wherever it comes from.

    ``request`` has ``user`` (the authenticated identity, None when not signed in),
    ``device_ok`` (the device passed its health check), ``network`` (ignored: location
    proves nothing), ``action`` and ``resource``. Allowed only when the user is
    authenticated, the device is healthy and a grant allows the action (default deny).
    """
    user = request.get("user")
    if not user or not request.get("device_ok"):
        return False
    return is_allowed(grants, user, request["action"], request["resource"])[0]
