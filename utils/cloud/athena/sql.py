"""Athena (Trino) SQL in, DuckDB SQL out: parsing, rewriting, and error wording.

sqlglot parses the Athena dialect and writes DuckDB's. On top of that plain
transpilation this module closes the gaps a learner would notice:

- table references become the engine's registered relations (keeping the
  original name as alias, so ``t.col`` still resolves);
- unnamed result columns are called ``_col0``, ``_col1``... as in Athena;
- date arithmetic on DATE values stays DATE (DuckDB would widen it to TIMESTAMP);
- ``?`` placeholders take the query's ExecutionParameters;
- DuckDB's error messages are reworded as Athena's (COLUMN_NOT_FOUND, ...), and
  sqlglot's parse errors as Trino's (``mismatched input 'x'. Expecting: ...``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from utils.cloud.athena.errors import AthenaQueryError, position

DIALECT = "athena"

# One identifier: `back-quoted`, "double-quoted" or bare.
_IDENT = r'(?:`[^`]+`|"[^"]+"|[A-Za-z0-9_$\-]+)'
QUALIFIED_NAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT}){{0,2}}"


def unquote(identifier: str) -> str:
    """``"Name"`` / `` `Name` `` / ``Name`` -> ``name`` (Athena names are lower case)."""
    identifier = identifier.strip()
    if len(identifier) >= 2 and identifier[0] == identifier[-1] and identifier[0] in "`\"":
        identifier = identifier[1:-1]
    return identifier.lower()


def split_name(text: str) -> list[str]:
    """``db.`t`` -> ``["db", "t"]``."""
    return [unquote(part) for part in re.findall(_IDENT, text)]


def strip_statement(sql: str) -> str:
    """The statement without surrounding blanks and trailing semicolons."""
    return sql.strip().rstrip(";").rstrip()


def leading_keywords(sql: str) -> str:
    """The statement's first words, upper-cased, with leading comments removed."""
    text = sql
    while True:
        text = text.lstrip()
        if text.startswith("--"):
            text = text.split("\n", 1)[1] if "\n" in text else ""
        elif text.startswith("/*"):
            text = text.split("*/", 1)[1] if "*/" in text else ""
        else:
            break
    return " ".join(text.split()[:4]).upper()


def parse(sql: str) -> exp.Expression:
    """Parse one Athena statement; raise SYNTAX_ERROR worded like Athena's."""
    dialect = sqlglot.Dialect.get_or_raise(DIALECT)
    try:
        tokens = dialect.tokenize(sql)
    except TokenError:
        raise _token_error(sql, dialect) from None
    parser = dialect.parser()
    try:
        statements = [s for s in parser.parse(tokens, sql) if s is not None]
    except ParseError as err:
        # The token the parser stopped at, kept by the engine's parser that ran (Hive's or Trino's).
        hive = bool(tokens) and tokens[0].token_type == TokenType.HIVE_TOKEN_STREAM
        inner = getattr(parser, "_hive_parser" if hive else "_trino_parser", parser)
        raise _syntax_error(err, sql, getattr(inner, "_curr", None)) from None
    if not statements:
        raise AthenaQueryError("SYNTAX_ERROR", "Empty query: nothing to run", 1, 1)
    if len(statements) > 1:
        raise AthenaQueryError("SYNTAX_ERROR", "Only one sql statement is allowed. Got: "
                               f"{len(statements)}", 1, 1)
    return _type_decimal_literals(statements[0], sql)


def decimal_literal_type(text: str) -> tuple[int, int] | None:
    """Trino's decimal(p,s) of a decimal literal: ``1.10`` -> (3, 2), ``0.0001`` -> (4, 4)."""
    match = re.fullmatch(r"\s*[+-]?(\d*)(?:\.(\d*))?\s*", text)
    if not match or not (match.group(1) or match.group(2)):
        return None
    whole, fraction = match.group(1).lstrip("0"), match.group(2) or ""
    precision = max(len(whole) + len(fraction), 1)
    return (precision, len(fraction)) if precision <= 38 else None


def _type_decimal_literals(tree: exp.Expression, sql: str) -> exp.Expression:
    """``DECIMAL '1.10'`` is decimal(3,2) in Trino (its digits); sqlglot reads it as
    ``CAST('1.10' AS DECIMAL)``, which DuckDB would make DECIMAL(18,3). A CAST written as such
    keeps its own type."""
    for node in list(tree.find_all(exp.Cast)):
        literal = node.this
        if not (node.to.is_type(exp.DataType.Type.DECIMAL) and not node.to.expressions
                and isinstance(literal, exp.Literal) and literal.is_string):
            continue
        start, end = literal.meta.get("start"), literal.meta.get("end")
        if start is None or end is None or sql[start:end + 1].strip("'") != literal.this:
            continue
        before = sql[:start].rstrip()
        if not before.upper().endswith("DECIMAL") or re.search(r"\bAS\s+DECIMAL$", before, re.IGNORECASE):
            continue
        shape = decimal_literal_type(literal.this)
        if shape is not None:
            node.set("to", exp.DataType.build(f"DECIMAL({shape[0]}, {shape[1]})"))
    return tree


# What Trino expected where sqlglot stopped, from sqlglot's description of the problem.
_EXPECTING: list[tuple[str, str]] = [
    (r"^Required keyword: .*\.(?:Limit|Offset|Fetch)'>", "'ALL', <integer>"),
    (r"^Required keyword: ", "<expression>"),
    (r"^Expected table name", "'(', 'LATERAL', 'UNNEST', <identifier>"),
    (r"^Expected (?:database|schema) name", "<identifier>"),
    (r"^Expected (?:type|TYPE)", "<type>"),
    (r"^Expect(?:ed|ing) ([)\]}>(]|[A-Z]+)(?: after \S+)?\.?$", "'{0}'"),
]
QUERY_STARTS = "'(', 'SELECT', 'TABLE', 'VALUES', 'WITH'"


def _syntax_error(err: ParseError, sql: str, stopped_at: Any) -> AthenaQueryError:
    """Trino's ``mismatched input 'x'. Expecting: ...`` for a sqlglot parse failure.

    ``stopped_at`` is the token the parser could not take (empty at the end of
    the statement, where Trino says ``'<EOF>'``). sqlglot's own wording names
    Python classes, so it is only used to tell what was expected.
    """
    first = err.errors[0] if err.errors else {}
    line, col = first.get("line"), first.get("col")
    highlight = first.get("highlight") or ""
    if col is not None and highlight:
        col = max(1, col - len(highlight) + 1)  # sqlglot points at the token's end
    if stopped_at:
        # sqlglot may highlight an earlier token (CASE ... without END): Trino names the one it stopped at.
        highlight = sql[stopped_at.start:stopped_at.end + 1]
        line, col = position(sql, stopped_at.start)
        message = f"mismatched input '{highlight}'"
    elif stopped_at is not None and highlight:
        message = f"mismatched input '<EOF>' after '{highlight}'"  # the statement ended too early
    else:
        message = f"mismatched input '{highlight or '<EOF>'}'"
    description = first.get("description") or ""
    for pattern, expecting in _EXPECTING:
        match = re.search(pattern, description)
        if match:
            message += ". Expecting: " + expecting.format(*match.groups())
            break
    return AthenaQueryError("SYNTAX_ERROR", message, line, col)


def _token_error(sql: str, dialect: sqlglot.Dialect) -> AthenaQueryError:
    """Trino's lexer error for text that is not even tokens: a quote or comment left open."""
    tokenizer = dialect.tokenizer()
    with contextlib.suppress(TokenError):
        tokenizer.tokenize(sql)
    done = tokenizer.tokens
    start = done[-1].end + 1 if done else 0
    while start < len(sql) and sql[start].isspace():
        start += 1
    bad = sql[start:].split("\n", 1)[0]
    return AthenaQueryError("SYNTAX_ERROR", f"token recognition error at: '{bad}' (a quote or a comment "
                            "is not closed)", *position(sql, start))


def parse_query(sql: str, start: int, end: int | None = None) -> exp.Expression:
    """Parse the query at ``sql[start:end]`` of a statement (CTAS, view, UNLOAD).

    Errors point into the whole statement text, as Trino's do.
    """
    query = sql[start:end]
    try:
        tokens = list(sqlglot.tokenize(query, read="trino"))
    except TokenError:
        tokens = []  # parse() reports it
    first = next((t for t in tokens if t.token_type != TokenType.L_PAREN), None)
    if first is not None and first.text.upper() not in ("SELECT", "WITH", "VALUES", "TABLE"):
        raise AthenaQueryError("SYNTAX_ERROR", f"mismatched input '{first.text}'. Expecting: {QUERY_STARTS}",
                               *position(sql, start + first.start))
    return parse(re.sub(r"[^\n]", " ", sql[:start]) + query)  # blanks keep lines and columns


def ctas_query_start(sql: str) -> int | None:
    """Where the query of ``CREATE TABLE name [WITH (...)] AS query`` starts (None if not a CTAS)."""
    try:
        tokens = list(sqlglot.tokenize(sql, read="trino"))
    except TokenError:
        return None
    if len(tokens) < 3 or tokens[0].token_type != TokenType.CREATE or tokens[1].token_type != TokenType.TABLE:
        return None
    depth = 0
    for index, token in enumerate(tokens[:-1]):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and token.token_type == TokenType.ALIAS \
                and tokens[index - 1].text.upper() != "STORED":  # not Hive's STORED AS
            return token.end + 1
    return None


# ----------------------------------------------------------------- references


@dataclass
class TableRef:
    """One table named in a query, resolved against the current catalog and database."""

    node: exp.Table
    catalog: str
    database: str
    name: str
    offset: int | None
    registered_as: str = ""
    partition_filter: dict[str, set[str]] = field(default_factory=dict)

    @property
    def qualified(self) -> str:
        """``awsdatacatalog.db.t`` as Athena prints it in messages."""
        return f"{self.catalog}.{self.database}.{self.name}"

    @property
    def alias(self) -> str:
        """The name the query uses for it (its alias, else its table name)."""
        return self.node.alias or self.name


def offset_of(node: exp.Expression) -> int | None:
    """Character offset of the first identifier in a node (for error positions)."""
    starts = [part.meta.get("start") for part in node.find_all(exp.Identifier)
              if part.meta.get("start") is not None]
    return min(starts) if starts else None


def table_refs(tree: exp.Expression, database: str, catalog: str) -> list[TableRef]:
    """Every table the query reads (CTE names and the CTAS target excluded)."""
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    target = tree.this if isinstance(tree, exp.Create) else None
    refs = []
    for node in tree.find_all(exp.Table):
        if target is not None and (node is target or node.parent is target):
            continue
        if not node.name:
            continue
        if not node.args.get("db") and node.name.lower() in cte_names:
            continue
        refs.append(TableRef(
            node=node,
            catalog=(node.catalog or catalog).lower(),
            database=(node.db or database).lower(),
            name=node.name.lower(),
            offset=offset_of(node),
        ))
    return refs


def needed_columns(tree: exp.Expression) -> set[str] | None:
    """Names that may be columns of the tables read; None when ``*`` asks for all.

    Over-approximate on purpose (every identifier counts): reading a column too
    many costs a little time, reading one too few breaks the query.
    """
    for star in tree.find_all(exp.Star):
        if not isinstance(star.parent, exp.Count):
            return None
    return {ident.name.lower() for ident in tree.find_all(exp.Identifier)}


def partition_predicates(ref: TableRef, partition_keys: list[str]) -> dict[str, set[str]]:
    """``key = 'v'`` / ``key IN (...)`` conjuncts of the WHERE that reads this table.

    Used to skip whole partitions, as Athena does (less data scanned).
    """
    found = column_equalities(ref, partition_keys)
    return {key: {v for v in values if isinstance(v, str)} for key, values in found.items()
            if all(isinstance(v, str) for v in values)}


def column_equalities(ref: TableRef, columns: list[str]) -> dict[str, set[str | bool]]:
    """The values ``col = literal`` / ``col IN (literals)`` conjuncts of the WHERE that reads this
    table allow, per column (text of the literal; True/False for a boolean literal)."""
    select = ref.node.parent_select
    if select is None or not columns or not select.args.get("where"):
        return {}
    own_tables = {t.alias_or_name.lower() for t in select.find_all(exp.Table)
                  if t.parent_select is select}
    qualifiers = {ref.alias.lower(), ref.name}
    found: dict[str, set[str | bool]] = {}
    condition = select.args["where"].this
    conjuncts = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]

    def constant(node: exp.Expression) -> bool:
        return isinstance(node, (exp.Literal, exp.Boolean))

    def value(node: exp.Expression) -> str | bool:
        return bool(node.this) if isinstance(node, exp.Boolean) else node.name

    for conjunct in conjuncts:
        column, values = None, None
        if isinstance(conjunct, exp.EQ):
            left, right = conjunct.this, conjunct.expression
            if isinstance(right, exp.Column) and constant(left):
                left, right = right, left
            if isinstance(left, exp.Column) and constant(right):
                column, values = left, {value(right)}
        elif isinstance(conjunct, exp.In) and isinstance(conjunct.this, exp.Column):
            items = conjunct.expressions
            if items and all(constant(i) for i in items):
                column, values = conjunct.this, {value(i) for i in items}
        if column is None or values is None:
            continue
        key = column.name.lower()
        if key not in columns:
            continue
        table = column.table.lower()
        if table and table not in qualifiers:
            continue
        if not table and len(own_tables) > 1:
            continue  # unqualified with several tables: might belong to another one
        found.setdefault(key, set()).update(values)
    return found


# ------------------------------------------------------------------- rewrites


def substitute_parameters(tree: exp.Expression, parameters: list[str] | None) -> exp.Expression:
    """Replace ``?`` placeholders, in order, with the ExecutionParameters' literals."""
    # dfs() walks the tree in text order (left operand first).
    placeholders = [p for p in tree.dfs() if isinstance(p, exp.Placeholder) and not p.args.get("this")]
    parameters = parameters or []
    if len(placeholders) != len(parameters):
        raise AthenaQueryError(
            "INVALID_PARAMETER_USAGE" if parameters else "SYNTAX_ERROR",
            f"Incorrect number of parameters: expected {len(placeholders)} but found "
            f"{len(parameters)}", 1, 1)
    for number, (node, value) in enumerate(zip(placeholders, parameters, strict=True), start=1):
        try:
            node.replace(_parameter_value(value))
        except AthenaQueryError as err:
            raise AthenaQueryError(err.name, f"{err.message} (in execution parameter {number}: "
                                   f"{value})") from None
    return tree


def _parameter_value(value: str) -> exp.Expression:
    """One execution parameter as an expression: a literal (``1``, ``'a'``, ``DATE '2020-01-01'``),
    or, for a bare word that would otherwise name a column, that word as a varchar.

    Athena sends the values as typed text; a plain word such as ``Washington`` (no quotes) is
    taken as the string it spells, which is how awswrangler's ``paramstyle="qmark"`` passes
    strings. A quoted name (``"x"``) or anything else stays an expression.
    """
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value.strip()):
        parsed = parse(value)
        if isinstance(parsed, exp.Column) and not parsed.table:
            return exp.Literal.string(value.strip())
        return parsed
    return parse(value)


def outermost_select(query: exp.Expression) -> exp.Select | None:
    """The SELECT whose projections name the result (the left arm of a UNION)."""
    while isinstance(query, exp.SetOperation):
        query = query.left
    if isinstance(query, exp.Subquery):
        return outermost_select(query.this)
    return query if isinstance(query, exp.Select) else None


def name_result_columns(query: exp.Expression) -> list[tuple[int, int | None]]:
    """Alias unnamed projections ``_colN`` as Athena names them.

    Returns (position, SQL offset) of each projection that had no name (CTAS
    refuses those, as Athena does).
    """
    select = outermost_select(query)
    unnamed: list[tuple[int, int | None]] = []
    if select is None:
        return unnamed
    for index, projection in enumerate(select.expressions):
        if isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
            continue
        unnamed.append((index + 1, offset_of(projection) if projection.find(exp.Identifier) else
                        projection.meta.get("start")))
        projection.replace(exp.alias_(projection.copy(), f"_col{index}"))
    return unnamed


_DAY_UNITS = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def keep_dates(tree: exp.Expression, date_columns: set[str]) -> exp.Expression:
    """Keep ``date_trunc`` / ``date_add`` / ``+ INTERVAL`` of a DATE a DATE (Trino's typing).

    DuckDB returns TIMESTAMP for both, which would turn a learner's monthly
    dates into timestamps. We know which columns are dates from the catalog;
    aliases of date expressions count too.
    """
    names = set(date_columns)

    def is_date(node: exp.Expression | None) -> bool:
        if isinstance(node, exp.Paren):
            return is_date(node.this)
        if isinstance(node, exp.Cast):
            return node.to.is_type(exp.DataType.Type.DATE)
        if isinstance(node, exp.CurrentDate):
            return True
        if isinstance(node, exp.Column):
            return node.name.lower() in names
        return False

    for _ in range(2):  # second pass sees aliases of date expressions found by the first
        for node in reversed(list(tree.dfs())):
            if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc, exp.DateAdd, exp.DateSub)):
                unit = (node.text("unit") or "DAY").upper()
                parent = node.parent
                wrapped = isinstance(parent, exp.Cast) and parent.to.is_type(exp.DataType.Type.DATE)
                if not wrapped and unit in _DAY_UNITS and is_date(node.this):
                    node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build("date")))
            elif isinstance(node, (exp.Add, exp.Sub)) and isinstance(node.expression, exp.Interval):
                # date + INTERVAL '1' DAY is a DATE in Trino
                unit = (node.expression.text("unit") or "DAY").upper()
                parent = node.parent
                wrapped = isinstance(parent, exp.Cast) and parent.to.is_type(exp.DataType.Type.DATE)
                if not wrapped and unit in _DAY_UNITS and is_date(node.this):
                    node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build("date")))
        for alias in tree.find_all(exp.Alias):
            if is_date(alias.this):
                names.add(alias.alias.lower())
    return tree


_INTEGER_TYPES = (exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT,
                  exp.DataType.Type.BIGINT)


def round_integer_casts(tree: exp.Expression, fractional_columns: set[str]) -> exp.Expression:
    """``CAST(22.5 AS integer)`` is 23 in Trino (half away from zero), 22 in DuckDB (half even).

    Where the value is known to be fractional (a double/decimal column, arithmetic,
    an average...), cast ``ROUND(value)`` instead: DuckDB's ROUND rounds half away
    from zero, as Trino does.
    """

    def fractional(node: exp.Expression) -> bool:
        if isinstance(node, exp.Paren):
            return fractional(node.this)
        if isinstance(node, exp.Column):
            return node.name.lower() in fractional_columns
        if isinstance(node, exp.Literal):
            return not node.is_string and "." in node.name
        if isinstance(node, (exp.Avg, exp.Div)):
            return True
        if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Sum, exp.Max, exp.Min, exp.Neg)):
            return any(fractional(child) for child in node.iter_expressions())
        if isinstance(node, exp.Cast):
            return node.to.is_type(exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT,
                                   exp.DataType.Type.DECIMAL)
        return False

    for cast in list(tree.find_all(exp.Cast)):
        if cast.to.is_type(*_INTEGER_TYPES) and fractional(cast.this):
            cast.set("this", exp.func("ROUND", cast.this.copy()))
    return tree


# A decimal-typed expression: (precision, scale, whether it is a DECIMAL rather than an integer).
Shape = tuple[int, int, bool]
_INTEGER_DIGITS = {exp.DataType.Type.TINYINT: 3, exp.DataType.Type.SMALLINT: 5, exp.DataType.Type.INT: 10,
                   exp.DataType.Type.BIGINT: 19}
QUOTIENT_MACRO = "athena_decimal_quotient"
# round(n / d) half away from zero, n and d HUGEINT (unscaled values); fails on d = 0 as Trino does.
QUOTIENT_MACRO_SQL = (f"CREATE MACRO {QUOTIENT_MACRO}(n, d) AS CASE WHEN d = 0 THEN "
                      "error('DIVISION_BY_ZERO: Division by zero') "
                      "ELSE sign(n) * sign(d) * ((abs(n) * 2 + abs(d)) // (2 * abs(d))) END")


def decimal_shape(node: exp.Expression | None, columns: dict[str, Shape | None]) -> Shape | None:
    """The Trino decimal(p,s) of an expression when it follows from its parts' declared types
    (decimal/integer columns, casts, integer literals); None when unknown or not exact."""
    if node is None:
        return None
    if isinstance(node, (exp.Paren, exp.Neg, exp.Max, exp.Min)):
        return decimal_shape(node.this, columns)
    if isinstance(node, exp.Cast):
        if node.to.is_type(exp.DataType.Type.DECIMAL) and len(node.to.expressions) == 2:
            p, sc = (int(e.name) for e in node.to.expressions)
            return p, sc, True
        digits = next((d for t, d in _INTEGER_DIGITS.items() if node.to.is_type(t)), None)
        return (digits, 0, False) if digits else None
    if isinstance(node, exp.Column):
        return columns.get(node.name.lower())
    if isinstance(node, exp.Literal):
        if node.is_string or not node.name.isdigit():
            return None
        return (10, 0, False) if int(node.name) <= 2**31 - 1 else (19, 0, False)
    if isinstance(node, exp.Count):
        return 19, 0, False
    if isinstance(node, exp.Sum):
        inner = decimal_shape(node.this, columns)
        return None if inner is None else (38 if inner[2] else 19, inner[1], inner[2])
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
        left, right = decimal_shape(node.this, columns), decimal_shape(node.expression, columns)
        if left is None or right is None:
            return None
        (p1, s1, d1), (p2, s2, d2) = left, right
        if not (d1 or d2):
            return None  # integer arithmetic: not ours
        if isinstance(node, exp.Mul):
            return min(38, p1 + p2), s1 + s2, True
        scale = max(s1, s2)
        if isinstance(node, exp.Div):
            return min(38, p1 + s2 + max(0, s2 - s1)), scale, True
        return min(38, 1 + scale + max(p1 - s1, p2 - s2)), scale, True
    return None


def _unscaled(node: exp.Expression, scale: int) -> exp.Expression:
    """The exact integer value * 10^scale of a decimal/integer expression, as HUGEINT."""
    scaled = exp.Mul(this=exp.Paren(this=node.copy()), expression=exp.Literal.number(10 ** scale)) \
        if scale else exp.Paren(this=node.copy())
    return exp.Cast(this=scaled, to=exp.DataType.build("HUGEINT"))


def _quotient(numerator: exp.Expression, denominator: exp.Expression, left: Shape, right: Shape,
              target: tuple[int, int]) -> exp.Expression:
    """``numerator / denominator`` as Trino divides decimals: exact, rounded half up to the
    result's scale, typed decimal(p,s)."""
    (_, s1, _), (_, s2, _) = left, right
    precision, scale = target
    hugeint = exp.DataType.build("HUGEINT")
    n = exp.Mul(this=_unscaled(numerator, s1), expression=exp.Cast(
        this=exp.Literal.number(10 ** (s2 + scale)), to=hugeint))
    d = exp.Mul(this=_unscaled(denominator, s2), expression=exp.Cast(
        this=exp.Literal.number(10 ** s1), to=hugeint))
    value: exp.Expression = exp.Cast(this=exp.Anonymous(this=QUOTIENT_MACRO, expressions=[n, d]),
                                     to=exp.DataType.build("DECIMAL(38, 0)"))
    if scale:
        unit = exp.Cast(this=exp.Literal.string(f"{Decimal(1).scaleb(-scale):f}"),
                        to=exp.DataType.build(f"DECIMAL({scale}, {scale})"))
        value = exp.Mul(this=value, expression=unit)
    return exp.Cast(this=value, to=exp.DataType.build(f"DECIMAL({precision}, {scale})"))


def exact_decimals(tree: exp.Expression, columns: dict[str, Shape | None]) -> exp.Expression:
    """Trino's exact decimal semantics where DuckDB switches to DOUBLE:

    - ``x / y`` with a decimal operand is decimal(min(38, xp + ys + max(0, ys - xs)), max(xs, ys)),
      rounded half up (DuckDB: a double);
    - ``avg(x)`` of a decimal(p,s) is decimal(p,s) (DuckDB: a double);
    - ``round(x, n)`` of a decimal(p,s) keeps decimal(p,s) (DuckDB: decimal(p,n)).

    Only where every operand's type is known (see :func:`decimal_shape`)."""
    for node in reversed(list(tree.dfs())):
        if isinstance(node, exp.Div):
            left, right = decimal_shape(node.this, columns), decimal_shape(node.expression, columns)
            shape = decimal_shape(node, columns)
            if left and right and shape:
                node.replace(_quotient(node.this, node.expression, left, right, shape[:2]))
        elif isinstance(node, exp.Avg) and not isinstance(node.parent, exp.Window):
            shape = decimal_shape(node.this, columns)
            if shape and shape[2]:
                total = exp.Sum(this=node.this.copy())
                node.replace(_quotient(total, exp.Count(this=node.this.copy()), (38, shape[1], True),
                                       (19, 0, False), shape[:2]))
        elif isinstance(node, exp.Round):
            shape = decimal_shape(node.this, columns)
            if shape and shape[2]:
                node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build(
                    f"DECIMAL({shape[0]}, {shape[1]})")))
    return tree


def to_duckdb(tree: exp.Expression) -> str:
    """The DuckDB SQL of a (rewritten) Athena query."""
    return tree.sql(dialect="duckdb")


# ------------------------------------------------------------- error wording

_QUOTED = re.compile(r'"([^"]+)"')
# Error names the rewritten SQL raises itself at run time (DuckDB's error('NAME: message')).
RAISED_ERRORS = frozenset({"INVALID_FUNCTION_ARGUMENT", "INVALID_CAST_ARGUMENT",
                           "NUMERIC_VALUE_OUT_OF_RANGE"})


def _find_identifier(tree: exp.Expression | None, name: str) -> int | None:
    if tree is None:
        return None
    wanted = name.lower().split(".")[-1]
    for column in tree.find_all(exp.Column):
        if column.name.lower() == wanted:
            return offset_of(column)
    for ident in tree.find_all(exp.Identifier):
        if ident.name.lower() == wanted:
            return ident.meta.get("start")
    return None


def _find_function(sql: str, name: str) -> int | None:
    match = re.search(rf"\b{re.escape(name)}\s*\(", sql, re.IGNORECASE)
    return match.start() if match else None


def _double_quote_hint(sql: str, name: str) -> str:
    """A hint when the unresolved "column" is double-quoted text, most likely meant as a string."""
    if not re.search(rf'"{re.escape(name)}"', sql, re.IGNORECASE):
        return ""
    literal = name.replace("'", "''")
    return (". Athena runs Trino SQL: double quotes name a column; write strings in single quotes, "
            f"'{literal}'")


def duckdb_error(err: Exception, sql: str, tree: exp.Expression | None,
                 rename: Callable[[str], str] = lambda s: s) -> AthenaQueryError:
    """Reword a DuckDB failure as the Athena error a learner would see on AWS."""
    text = rename(str(err))
    first = text.split("\n", 1)[0]
    first = re.sub(r"^[A-Za-z ]*Error: ", "", first).strip()
    kind = type(err).__name__

    def at(name: str | None) -> tuple[int | None, int | None]:
        return position(sql, _find_identifier(tree, name) if name else None)

    # error('NAME: ...') of a rewritten function, or a Trino function's (Python) failure
    raised = re.search(rf"\b({'|'.join(sorted(RAISED_ERRORS))}): (.+)$", first)
    if raised:
        return AthenaQueryError(raised.group(1), raised.group(2))
    quoted = _QUOTED.findall(first)
    if "Referenced column" in first and quoted:
        name = quoted[0]
        return AthenaQueryError("COLUMN_NOT_FOUND", f"Column '{name}' cannot be resolved"
                                f"{_double_quote_hint(sql, name)}", *at(name))
    if "does not have a column named" in first and len(quoted) >= 2:
        name = f"{quoted[0]}.{quoted[1]}"
        return AthenaQueryError("COLUMN_NOT_FOUND", f"Column '{name}' cannot be resolved",
                                *at(quoted[1]))
    if "Referenced table" in first and quoted:
        return AthenaQueryError("COLUMN_NOT_FOUND",
                                f"Column '{quoted[0]}' cannot be resolved (no table or alias "
                                f"'{quoted[0]}' in FROM)", *at(quoted[0]))
    if "Ambiguous reference to column" in first and quoted:
        return AthenaQueryError("COLUMN_AMBIGUOUS", f"Column '{quoted[0]}' is ambiguous", *at(quoted[0]))
    if "must appear in the GROUP BY clause" in first and quoted:
        return AthenaQueryError("EXPRESSION_NOT_AGGREGATE",
                                f"'{quoted[0]}' must be an aggregate expression or appear in GROUP BY "
                                "clause", *at(quoted[0]))
    match = re.search(r"Function with name (\w+) does not exist", first)
    if match:
        name = match.group(1)
        line, col = position(sql, _find_function(sql, name))
        return AthenaQueryError("FUNCTION_NOT_FOUND", f"Function '{name}' not registered", line, col)
    if "No function matches" in first:
        return AthenaQueryError("FUNCTION_NOT_FOUND", first)
    if "Division by zero" in first or "division by zero" in first:
        return AthenaQueryError("DIVISION_BY_ZERO", "Division by zero")
    match = re.search(r"Could not convert string '(.*)' to ([A-Z]+)", first)
    if match:
        target = {"INT32": "INTEGER", "INT64": "BIGINT", "INT16": "SMALLINT", "INT8": "TINYINT"}.get(
            match.group(2), match.group(2))
        return AthenaQueryError("INVALID_CAST_ARGUMENT", f"Cannot cast '{match.group(1)}' to {target}")
    if kind == "ConversionException":
        return AthenaQueryError("INVALID_CAST_ARGUMENT", first)
    if "Cannot compare values" in first or "Cannot mix values" in first or "Cannot cast" in first:
        return AthenaQueryError("TYPE_MISMATCH", first)
    if kind == "ParserException":
        return AthenaQueryError("SYNTAX_ERROR", first)
    return AthenaQueryError("GENERIC_USER_ERROR", first)


def literal_value(node: Any) -> str:
    """The Python string of a sqlglot literal (or bare word) in a WITH (...) clause."""
    if isinstance(node, exp.Literal):
        return node.name
    if isinstance(node, exp.Array):
        return ",".join(literal_value(e) for e in node.expressions)
    if isinstance(node, exp.Expression):
        return node.name or node.sql()
    return str(node)
