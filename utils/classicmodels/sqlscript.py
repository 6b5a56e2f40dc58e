"""Reading MySQL script files (dumps, DDL) without a mysql client binary.

A dump is a sequence of statements separated by ``;``, but a semicolon inside a
string (``'a; b'``), an identifier, or a comment does not end a statement, and
strings use backslash escapes (``'Kelly\\'s'``) as well as doubled quotes. We
tokenize with one regular expression (C speed, no character loop in Python) and
cut at top-level semicolons. ``DELIMITER`` lines (mysqldump ``--routines``) are
honoured. Executable comments (``/*!40101 SET NAMES utf8 */``) are kept because
the server runs their content; ordinary comments are dropped.

Also here: a small parser for ``CREATE TABLE`` column lists (to validate a dump
before loading it) and the rewrite that redirects a dump's statements to
the staging database (so a load never touches the live tables until the final swap).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# One lexeme per match. Order matters: strings and comments before the catch-alls.
_TOKEN = re.compile(
    r"""
      '(?:[^'\\]|\\.|'')*'          # single-quoted string, \-escapes and ''
    | "(?:[^"\\]|\\.|"")*"          # double-quoted string
    | `(?:[^`]|``)*`                # quoted identifier
    | /\*!.*?\*/                    # executable comment: kept
    | /\*.*?\*/                     # ordinary comment: dropped
    | --(?=\s|$)[^\n]*              # '-- ' comment (MySQL needs the space)
    | \#[^\n]*                      # '#' comment
    | ;                             # statement end (default delimiter)
    | [^'"`/\-\#;]+                 # anything else, in bulk
    | .                             # a lone '/', '-' or an unmatched quote
    """,
    re.VERBOSE | re.DOTALL,
)
_DELIMITER_LINE = re.compile(r"^[ \t]*DELIMITER[ \t]+(\S+)[ \t]*$", re.IGNORECASE | re.MULTILINE)


class SqlScriptError(ValueError):
    """A script that cannot be split into statements (e.g. an unterminated string)."""


def split_statements(text: str) -> Iterator[str]:
    """Yield the statements of a MySQL script, without their terminating delimiter.

    Handles quotes, backslash escapes, comments and ``DELIMITER`` changes.
    Raises :class:`SqlScriptError` when a string or comment never ends.
    """
    pos = 0
    # DELIMITER is a client command: split the text at those lines and use the
    # active delimiter for each section.
    delimiter = ";"
    for match in _DELIMITER_LINE.finditer(text):
        yield from _split_section(text[pos : match.start()], delimiter)
        delimiter = match.group(1)
        pos = match.end()
    yield from _split_section(text[pos:], delimiter)


def _split_section(text: str, delimiter: str) -> Iterator[str]:
    parts: list[str] = []
    for match in _TOKEN.finditer(text):
        lexeme = match.group(0)
        first = lexeme[0]
        if lexeme == ";" and delimiter == ";":
            statement = "".join(parts).strip()
            if statement:
                yield statement
            parts = []
        elif first in "'\"`" and len(lexeme) == 1:
            raise SqlScriptError(f"unterminated {lexeme}-quoted text near: {text[match.start():][:60]!r}")
        elif lexeme == "/" and text.startswith("*", match.end()):
            raise SqlScriptError(f"unterminated comment near: {text[match.start():][:60]!r}")
        elif lexeme.startswith("/*") and not lexeme.startswith("/*!"):
            parts.append(" ")  # ordinary comment
        elif first == "#" or lexeme.startswith("--"):
            parts.append("\n")  # line comment
        elif delimiter != ";" and first not in "'\"`" and delimiter in lexeme:
            # A custom delimiter (e.g. $$) inside bulk text ends the statement.
            pieces = lexeme.split(delimiter)
            for piece in pieces[:-1]:
                parts.append(piece)
                statement = "".join(parts).strip()
                if statement:
                    yield statement
                parts = []
            parts.append(pieces[-1])
        else:
            parts.append(lexeme)
    statement = "".join(parts).strip()
    if statement:
        yield statement


_EXEC_COMMENT = re.compile(r"^/\*!\d*\s*(.*?)\s*\*/$", re.DOTALL)


def unwrap(statement: str) -> str:
    """Return the statement with one enclosing executable comment removed.

    ``/*!40101 SET NAMES utf8 */`` becomes ``SET NAMES utf8``; anything else is
    returned unchanged. Used to classify a statement by its first words.
    """
    match = _EXEC_COMMENT.match(statement.strip())
    return match.group(1) if match else statement.strip()


def statement_kind(statement: str) -> str:
    """Classify a statement by its leading keywords, e.g. ``CREATE TABLE``, ``INSERT``, ``SET``."""
    head = re.sub(r"\s+", " ", unwrap(statement)[:80]).upper()
    for kind in (
        "CREATE DATABASE", "CREATE SCHEMA", "DROP DATABASE", "DROP SCHEMA",
        "CREATE TABLE", "CREATE TEMPORARY TABLE", "DROP TABLE", "ALTER TABLE",
        "INSERT", "REPLACE", "LOCK TABLES", "UNLOCK TABLES", "USE", "SET",
        "CREATE", "DROP", "START TRANSACTION", "BEGIN", "COMMIT",
    ):
        if head == kind or head.startswith(kind + " ") or head.startswith(kind + "`"):
            return kind
    return head.split(" ", 1)[0] if head else ""


# ---------------------------------------------------------------- CREATE TABLE

@dataclass(frozen=True)
class Column:
    """One column of a CREATE TABLE statement."""

    name: str
    type: str  # lower-case MySQL type as written, e.g. "varchar(50)", "decimal(10,2)"
    nullable: bool

    @property
    def family(self) -> str:
        """Coarse type family: integer, decimal, float, string, date, datetime, binary."""
        return type_family(self.type)


def type_family(mysql_type: str) -> str:
    """Map a MySQL column type to the family the ETL cares about."""
    base = mysql_type.lower().split("(", 1)[0].split()[0]
    if base in {"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "bit"}:
        return "integer"
    if base in {"decimal", "numeric", "dec", "fixed"}:
        return "decimal"
    if base in {"float", "double", "real"}:
        return "float"
    if base in {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json"}:
        return "string"
    if base == "date":
        return "date"
    if base in {"datetime", "timestamp"}:
        return "datetime"
    if base in {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}:
        return "binary"
    return base


@dataclass(frozen=True)
class TableDef:
    """A parsed CREATE TABLE: name, columns, primary key and foreign keys."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...]

    def column(self, name: str) -> Column | None:
        """The column called ``name`` (case-insensitive, as MySQL compares them), or None."""
        for col in self.columns:
            if col.name.lower() == name.lower():
                return col
        return None


_CREATE_HEAD = re.compile(
    r"^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?((?:`[^`]+`|\w+)(?:\s*\.\s*(?:`[^`]+`|\w+))?)\s*\(",
    re.IGNORECASE,
)
_CONSTRAINT_WORDS = ("PRIMARY", "KEY", "INDEX", "UNIQUE", "CONSTRAINT", "FOREIGN",
                     "FULLTEXT", "SPATIAL", "CHECK", "PERIOD", "SYSTEM")


def _ident(text: str) -> str:
    text = text.strip()
    if text.startswith("`") and text.endswith("`"):
        return text[1:-1].replace("``", "`")
    return text


def _split_top_level(body: str) -> list[str]:
    """Split a column list at commas outside parentheses and quotes."""
    items, depth, start, i = [], 0, 0, 0
    while i < len(body):
        ch = body[i]
        if ch in "'\"`":
            end = i + 1
            while end < len(body) and body[end] != ch:
                end += 2 if body[end] == "\\" else 1
            i = end
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(body[start:i].strip())
            start = i + 1
        i += 1
    items.append(body[start:].strip())
    return [item for item in items if item]


def _names(group: str) -> tuple[str, ...]:
    return tuple(_ident(part.split("(")[0]) for part in _split_top_level(group))


def table_name(statement: str) -> str | None:
    """The (unqualified) table name a CREATE/DROP/ALTER TABLE or INSERT statement targets."""
    head = unwrap(statement)
    match = _TARGET.match(head)
    if not match:
        return None
    return _ident(match.group("table"))


def parse_create_table(statement: str) -> TableDef:
    """Parse the columns, primary key and foreign keys of a ``CREATE TABLE`` statement."""
    text = unwrap(statement)
    match = _CREATE_HEAD.match(text)
    if not match:
        raise SqlScriptError(f"not a CREATE TABLE statement: {text[:60]!r}")
    name = _ident(re.split(r"\s*\.\s*", match.group(1))[-1])
    # Body: from the opening parenthesis to its matching close.
    depth, start = 0, match.end() - 1
    end = start
    for end in range(start, len(text)):
        if text[end] == "(":
            depth += 1
        elif text[end] == ")":
            depth -= 1
            if depth == 0:
                break
    columns, primary, foreign = [], (), []
    for item in _split_top_level(text[start + 1 : end]):
        first = item.split(None, 1)[0].upper().strip("`")
        if item.startswith("`") or first not in _CONSTRAINT_WORDS:
            col = re.match(r"(`(?:[^`]|``)+`|\w+)\s+(\w+(?:\s*\([^)]*\))?(?:\s+unsigned)?)", item,
                           re.IGNORECASE)
            if not col:
                continue
            nullable = not re.search(r"\bNOT\s+NULL\b", item, re.IGNORECASE)
            if re.search(r"\bPRIMARY\s+KEY\b", item, re.IGNORECASE):
                primary = (_ident(col.group(1)),)
                nullable = False
            columns.append(Column(_ident(col.group(1)), re.sub(r"\s+", "", col.group(2).lower())
                                  .replace("unsigned", " unsigned"), nullable))
            continue
        pk = re.search(r"PRIMARY\s+KEY\s*(?:\w+\s*)?\((.*)\)", item, re.IGNORECASE | re.DOTALL)
        if pk:
            primary = _names(pk.group(1))
        fk = re.search(r"FOREIGN\s+KEY\s*(?:`[^`]*`\s*|\w+\s*)?\((.*?)\)\s*REFERENCES\s+"
                       r"((?:`[^`]+`|\w+)(?:\s*\.\s*(?:`[^`]+`|\w+))?)\s*\((.*?)\)",
                       item, re.IGNORECASE | re.DOTALL)
        if fk:
            ref = _ident(re.split(r"\s*\.\s*", fk.group(2))[-1])
            foreign.append((_names(fk.group(1)), ref, _names(fk.group(3))))
    return TableDef(name, tuple(columns), tuple(primary), tuple(foreign))


# ----------------------------------------------------------- staging rewrite

_TARGET = re.compile(
    r"^(?P<verb>(?:INSERT|REPLACE)(?:\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE))*\s+(?:INTO\s+)?"
    r"|CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"|DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?"
    r"|ALTER\s+(?:IGNORE\s+)?TABLE\s+"
    r"|LOCK\s+TABLES\s+)"
    r"(?P<qualified>(?:(?:`[^`]+`|\w+)\s*\.\s*)?)(?P<table>`(?:[^`]|``)+`|\w+)",
    re.IGNORECASE,
)
_REFERENCES = re.compile(
    r"(\bREFERENCES\s+)((?:`[^`]+`|\w+)\s*\.\s*)?(`(?:[^`]|``)+`|\w+)", re.IGNORECASE
)


def redirect_statement(statement: str, rename: dict[str, str]) -> str:
    """Point a statement at other table names (e.g. ``customers`` -> ``__stage_customers``).

    Only the statement's target table and, in DDL, ``REFERENCES`` targets are
    rewritten, never data inside INSERT values. Database qualifiers
    (``classicmodels.customers``) are dropped, so the statement runs in the
    connection's database (the loader's staging database). ``rename`` keys
    are lower-case table names.
    """
    text = unwrap(statement)
    match = _TARGET.match(text)
    if not match:
        return statement
    new = rename.get(_ident(match.group("table")).lower())
    if new is None:
        return statement
    head = f"{match.group('verb')}`{new}`"
    rest = text[match.end() :]
    kind = statement_kind(text)
    if kind in ("CREATE TABLE", "ALTER TABLE"):

        def _ref(m: re.Match[str]) -> str:
            target = rename.get(_ident(m.group(3)).lower())
            return f"{m.group(1)}`{target}`" if target else m.group(0)

        rest = _REFERENCES.sub(_ref, rest)
    return head + rest
