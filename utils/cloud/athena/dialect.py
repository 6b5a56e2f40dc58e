"""Keep the local Athena as strict as Athena about MySQL-isms, and add Trino functions DuckDB lacks.

sqlglot is forgiving: it reads MySQL's ``IFNULL``, ``DATEDIFF(a, b)``,
``GROUP_CONCAT``, ``LIMIT 2, 3``... and quietly turns them into valid SQL, so
a learner coming from MySQL would pass locally and fail on AWS, where Athena
runs Trino. :func:`check_trino_sql` looks at the ORIGINAL text (tokens, so
string literals and comments do not count) and fails such queries as Athena
would, adding a hint with the Trino spelling.

:func:`format_datetime` rewrites Trino's ``format_datetime(ts, 'yyyy-MM-dd')``
(Joda-Time patterns) into DuckDB's ``strftime``.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from utils.cloud.athena.errors import AthenaQueryError, position

_MYSQL = "Athena runs Trino SQL, not MySQL"

# MySQL functions Trino does not have (checked against Trino's function list), with the Trino way.
MYSQL_ONLY_FUNCTIONS: dict[str, str] = {
    "ifnull": "use coalesce(x, y)",
    "isnull": "use x IS NULL",
    "datediff": "use date_diff('day', start, end) (MySQL's DATEDIFF(end, start) takes the dates the "
                "other way round)",
    "timestampdiff": "use date_diff('unit', start, end)",
    "timestampadd": "use date_add('unit', n, x)",
    "date_sub": "use date_add('day', -n, x) or x - INTERVAL 'n' DAY",
    "subdate": "use date_add('day', -n, x) or x - INTERVAL 'n' DAY",
    "adddate": "use date_add('day', n, x) or x + INTERVAL 'n' DAY",
    "str_to_date": "use date_parse(s, format) (same %Y-%m-%d specifiers)",
    "group_concat": "use array_join(array_agg(x), ',')",
    "curdate": "use current_date",
    "curtime": "use current_time",
    "sysdate": "use current_timestamp (or now())",
    "unix_timestamp": "use to_unixtime(ts)",
    "substring_index": "use split_part(s, delimiter, n)",
    "locate": "use strpos(s, substring) (note the order: string first)",
    "instr": "use strpos(s, substring)",
    "lcase": "use lower(s)",
    "ucase": "use upper(s)",
    "mid": "use substr(s, start, length)",
    "char_length": "use length(s)",
    "character_length": "use length(s)",
    "dayofweek": "use day_of_week(d) (ISO: Monday = 1, where MySQL's DAYOFWEEK has Sunday = 1)",
    "dayofmonth": "use day_of_month(d) or day(d)",
    "dayofyear": "use day_of_year(d)",
    "weekday": "use day_of_week(d) - 1",
    "dayname": "use date_format(d, '%W')",
    "monthname": "use date_format(d, '%M')",
    "last_day": "use last_day_of_month(d)",
    "find_in_set": "use array_position(split(list, ','), x)",
}

# Reserved words in Trino: calling them is a syntax error, not an unknown function.
MYSQL_RESERVED_FUNCTIONS: dict[str, str] = {
    "left": "use substr(s, 1, n)",
    "right": "use substr(s, -n)",
}


def _fail(name: str, message: str, sql: str, token: Token, hint: str) -> AthenaQueryError:
    line, column = position(sql, token.start)
    return AthenaQueryError(name, f"{message}. {_MYSQL}: {hint}", line, column)


def _tokens(sql: str) -> list[Token]:
    try:
        return list(sqlglot.tokenize(sql, read="trino"))
    except TokenError:
        return []  # the parser will report it


def runs_on_trino(sql: str) -> bool:
    """Whether Athena runs this statement with Trino (DML, CTAS, views) rather than Hive (DDL)."""
    tokens = _tokens(sql)
    while tokens and tokens[0].token_type == TokenType.L_PAREN:
        tokens = tokens[1:]
    if not tokens:
        return False
    first = tokens[0].text.upper()
    if first in ("SELECT", "WITH", "VALUES", "TABLE", "INSERT", "UNLOAD"):
        return True
    if first == "CREATE":
        words = [t.text.upper() for t in tokens[1:5]]
        # CREATE VIEW and CREATE TABLE AS SELECT; CREATE [EXTERNAL] TABLE (...) is Hive DDL.
        return "VIEW" in words or any(t.token_type == TokenType.SELECT for t in tokens)
    return False


def check_trino_sql(sql: str) -> None:
    """Fail (as Athena would, plus a hint) on MySQL syntax or functions that Trino rejects.

    Syntax errors are reported before unknown functions, as Trino parses first.
    """
    tokens = _tokens(sql)
    _check_syntax(sql, tokens)
    _check_functions(sql, tokens)


def _check_syntax(sql: str, tokens: list[Token]) -> None:
    for index, token in enumerate(tokens):
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        after2 = tokens[index + 2] if index + 2 < len(tokens) else None
        word = token.text.upper()
        if token.token_type == TokenType.UNKNOWN and token.text == "`":
            raise _fail("SYNTAX_ERROR", "backquoted identifiers are not supported; use double quotes to "
                        "quote identifiers", sql, token,
                        'quote identifiers with double quotes, "name" (backticks are for DDL only, '
                        "such as CREATE EXTERNAL TABLE)")
        if token.token_type == TokenType.LIMIT and after is not None and after2 is not None \
                and after.token_type in (TokenType.NUMBER, TokenType.PLACEHOLDER):
            if after2.token_type == TokenType.COMMA:
                count = tokens[index + 3].text if index + 3 < len(tokens) else "m"
                raise _fail("SYNTAX_ERROR", "mismatched input ','. Expecting: <EOF>", sql, after2,
                            f"use OFFSET {after.text} LIMIT {count} instead of LIMIT {after.text}, {count} "
                            "(Trino's OFFSET comes before LIMIT)")
            if after2.token_type == TokenType.OFFSET:
                raise _fail("SYNTAX_ERROR", "mismatched input 'OFFSET'. Expecting: <EOF>", sql, after2,
                            f"use OFFSET n LIMIT {after.text} (Trino's OFFSET comes before LIMIT)")
        if token.token_type == TokenType.INTERVAL and after is not None \
                and after.token_type == TokenType.NUMBER:
            unit = after2.text.upper() if after2 is not None else "DAY"
            raise _fail("SYNTAX_ERROR", f"mismatched input '{after.text}'. Expecting: '+', '-', <string>",
                        sql, after, f"write the amount as a string, INTERVAL '{after.text}' {unit}")
        if word in ("REGEXP", "RLIKE") and (after is None or after.token_type != TokenType.L_PAREN) \
                and index > 0 and tokens[index - 1].token_type != TokenType.DOT:
            raise _fail("SYNTAX_ERROR", f"mismatched input '{token.text}'", sql, token,
                        "use regexp_like(s, pattern)")
        name = token.text.lower()
        if name in MYSQL_RESERVED_FUNCTIONS and after is not None \
                and after.token_type == TokenType.L_PAREN:
            raise _fail("SYNTAX_ERROR", f"mismatched input '{token.text}'", sql, token,
                        MYSQL_RESERVED_FUNCTIONS[name])


def _check_functions(sql: str, tokens: list[Token]) -> None:
    for index, token in enumerate(tokens[:-1]):
        if tokens[index + 1].token_type != TokenType.L_PAREN or token.token_type == TokenType.STRING:
            continue
        if index > 0 and tokens[index - 1].token_type == TokenType.DOT:
            continue
        name = token.text.lower()
        if name in MYSQL_ONLY_FUNCTIONS:
            raise _fail("FUNCTION_NOT_FOUND", f"Function '{name}' not registered", sql, token,
                        MYSQL_ONLY_FUNCTIONS[name])
        if name == "date_add" and _has_interval_argument(tokens, index + 1):
            raise _fail("FUNCTION_NOT_FOUND", "Unexpected parameters for function date_add. Expected: "
                        "date_add(varchar(x), bigint, date), date_add(varchar(x), bigint, timestamp(p))",
                        sql, token, "use date_add('day', n, x) or x + INTERVAL 'n' DAY")


def _has_interval_argument(tokens: list[Token], open_index: int) -> bool:
    """Whether the call whose ``(`` is at open_index has an INTERVAL at its own level."""
    depth = 0
    for token in tokens[open_index:]:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return False
        elif depth == 1 and token.token_type == TokenType.INTERVAL:
            return True
    return False


# ------------------------------------------------------------ format_datetime

# Joda-Time pattern letters (run length -> strftime), as Trino's format_datetime reads them.
_JODA: dict[str, dict[int, str]] = {
    "y": {1: "%Y", 2: "%y", 3: "%Y", 4: "%Y"},
    "Y": {1: "%Y", 2: "%y", 3: "%Y", 4: "%Y"},
    "M": {1: "%-m", 2: "%m", 3: "%b", 4: "%B"},
    "d": {1: "%-d", 2: "%d"},
    "H": {1: "%-H", 2: "%H"},
    "h": {1: "%-I", 2: "%I"},
    "m": {1: "%-M", 2: "%M"},
    "s": {1: "%-S", 2: "%S"},
    "S": {1: "%g", 2: "%g", 3: "%g", 6: "%f", 9: "%n"},
    "a": {1: "%p"},
    "E": {1: "%a", 2: "%a", 3: "%a", 4: "%A"},
    "D": {1: "%-j", 2: "%j", 3: "%j"},
    "Z": {1: "%z", 2: "%z"},
    "z": {1: "%Z", 2: "%Z", 3: "%Z", 4: "%Z"},
}


def joda_to_strftime(pattern: str) -> str:
    """``yyyy-MM-dd'T'HH:mm`` -> ``%Y-%m-%dT%H:%M``; raise NOT_SUPPORTED for letters we do not map."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:  # '' is a quote
                out.append("'")
                i += 2
                continue
            if end < 0:
                end = len(pattern)
            out.append(pattern[i + 1:end].replace("%", "%%"))
            i = end + 1
            continue
        if char.isalpha():
            run = i
            while run < len(pattern) and pattern[run] == char:
                run += 1
            count = run - i
            table = _JODA.get(char)
            if table is None:
                raise AthenaQueryError("NOT_SUPPORTED", f"format_datetime pattern letter '{char}' is not "
                                       "supported by the local Athena")
            out.append(table.get(count) or table[max(k for k in table if k <= count)])
            i = run
            continue
        out.append("%%" if char == "%" else char)
        i += 1
    return "".join(out)


def rewrite_trino_functions(tree: exp.Expression) -> exp.Expression:
    """Rewrite Trino functions DuckDB lacks: ``format_datetime`` (with a literal pattern)."""
    for node in list(tree.find_all(exp.Anonymous)):
        if node.name.lower() != "format_datetime" or len(node.expressions) != 2:
            continue
        value, pattern = node.expressions
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            continue
        node.replace(exp.func("STRFTIME", value.copy(), exp.Literal.string(joda_to_strftime(pattern.name))))
    return tree
