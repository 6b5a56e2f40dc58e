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

import re
from collections.abc import Iterator

import sqlglot
from sqlglot import exp
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from utils.cloud.athena import functions as trino_functions
from utils.cloud.athena import types as athena_types
from utils.cloud.athena.errors import AthenaQueryError, position
from utils.cloud.athena.sql import ctas_query_start

T = exp.DataType.Type
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


# Every function Trino registers (trino.io/docs/current/functions/list.html), plus the
# call-like syntax it parses itself. A name outside this set that DuckDB happens to
# know would run locally and fail on AWS, so the local Athena refuses it too.
TRINO_FUNCTIONS: frozenset[str] = frozenset((
    "abs", "acos", "all_match", "any_match", "any_value", "approx_distinct", "approx_most_frequent",
    "approx_percentile", "approx_set", "arbitrary", "array_agg", "array_distinct", "array_except",
    "array_first", "array_histogram", "array_intersect", "array_join", "array_last", "array_max",
    "array_min", "array_position", "array_remove", "array_sort", "array_union", "arrays_overlap",
    "asin", "at_timezone", "atan", "atan2", "avg", "bar", "beta_cdf", "bing_tile", "bing_tile_at",
    "bing_tile_coordinates", "bing_tile_polygon", "bing_tile_quadkey", "bing_tile_zoom_level",
    "bing_tiles_around", "bit_count", "bitwise_and", "bitwise_and_agg", "bitwise_left_shift",
    "bitwise_not", "bitwise_or", "bitwise_or_agg", "bitwise_right_shift",
    "bitwise_right_shift_arithmetic", "bitwise_xor", "bool_and", "bool_or", "cardinality", "cast",
    "cbrt", "ceil", "ceiling", "char2hexint", "checksum", "chr", "classify", "codepoint",
    "coalesce", "collect", "color", "combinations", "concat", "concat_ws", "contains",
    "contains_sequence", "convex_hull_agg", "corr", "cos", "cosh", "cosine_distance",
    "cosine_similarity", "count", "count_if", "covar_pop", "covar_samp", "crc32", "cume_dist",
    "current_date", "current_groups", "current_time", "current_timestamp", "current_timezone",
    "current_user", "current_catalog", "current_schema", "current_path", "date", "date_add",
    "date_diff", "date_format", "date_parse", "date_trunc", "day", "day_of_month", "day_of_week",
    "day_of_year", "degrees", "dense_rank", "dow", "doy", "e", "element", "element_at",
    "empty_approx_set", "ends_with", "evaluate_classifier_predictions", "every", "exclude_columns",
    "extract", "exp", "features", "filter", "first_value", "flatten", "floor", "format",
    "format_datetime", "format_number", "from_base", "from_base32", "from_base64", "from_base64url",
    "from_big_endian_32", "from_big_endian_64", "from_encoded_polyline", "from_geojson_geometry",
    "from_hex", "from_ieee754_32", "from_ieee754_64", "from_iso8601_date", "from_iso8601_timestamp",
    "from_iso8601_timestamp_nanos", "from_unixtime", "from_unixtime_nanos", "from_utf8", "fusion",
    "geometric_mean", "geometry_collect_agg", "geometry_from_hadoop_shape",
    "geometry_invalid_reason", "geometry_nearest_points", "geometry_to_bing_tiles",
    "geometry_union", "geometry_union_agg", "great_circle_distance", "greatest", "grouping",
    "hamming_distance", "hash_counts", "histogram", "hmac_md5", "hmac_sha1", "hmac_sha256",
    "hmac_sha512", "hour", "human_readable_seconds", "if", "index", "infinity", "intersection",
    "intersection_cardinality", "inverse_beta_cdf", "inverse_normal_cdf", "is_finite",
    "is_infinite", "is_json_scalar", "is_nan", "jaccard_index", "json", "json_array",
    "json_array_contains", "json_array_get", "json_array_length", "json_exists", "json_extract",
    "json_extract_scalar", "json_format", "json_object", "json_parse", "json_query", "json_scalar",
    "json_serialize", "json_size", "json_value", "kurtosis", "lag", "last_day_of_month",
    "last_value", "lead", "learn_classifier", "learn_libsvm_classifier", "learn_libsvm_regressor",
    "learn_regressor", "least", "length", "levenshtein_distance", "line_interpolate_point",
    "line_interpolate_points", "line_locate_point", "listagg", "ln", "localtime", "localtimestamp",
    "log", "log10", "log2", "lower", "lpad", "ltrim", "luhn_check", "make_set_digest", "map",
    "map_agg", "map_concat", "map_entries", "map_filter", "map_from_entries", "map_keys",
    "map_union", "map_values", "map_zip_with", "max", "max_by", "md5", "merge", "merge_set_digest",
    "millisecond", "min", "min_by", "minute", "mod", "month", "multimap_agg",
    "multimap_from_entries", "murmur3", "nan", "ngrams", "none_match", "normal_cdf", "normalize",
    "now", "nth_value", "ntile", "nullif", "numeric_histogram", "objectid", "objectid_timestamp",
    "parse_datetime", "parse_duration", "parse_data_size", "percent_rank", "pi", "position", "pow",
    "power", "qdigest_agg", "quarter", "radians", "rand", "random", "rank", "reduce", "reduce_agg",
    "regexp_count", "regexp_extract", "regexp_extract_all", "regexp_like", "regexp_position",
    "regexp_replace", "regexp_split", "regress", "regr_intercept", "regr_slope", "render", "repeat",
    "replace", "reverse", "rgb", "round", "row", "row_number", "rpad", "rtrim", "second",
    "sequence", "set", "sha1", "sha256", "sha512", "shuffle", "sign", "simplify_geometry", "sin",
    "sinh", "skewness", "slice", "soundex", "spatial_partitioning", "spatial_partitions", "split",
    "split_part", "split_to_map", "split_to_multimap", "spooky_hash_v2_32", "spooky_hash_v2_64",
    "sqrt", "starts_with", "stddev", "stddev_pop", "stddev_samp", "strpos", "substr", "substring",
    "sum", "tan", "tanh", "tdigest_agg", "theta_sketch_cardinality", "theta_sketch_union",
    "timestamp_objectid", "timezone", "timezone_hour", "timezone_minute", "title_case", "to_base",
    "to_base32", "to_base64", "to_base64url", "to_big_endian_32", "to_big_endian_64", "to_char",
    "to_date", "to_encoded_polyline", "to_geojson_geometry", "to_geometry", "to_hex",
    "to_ieee754_32", "to_ieee754_64", "to_iso8601", "to_milliseconds", "to_spherical_geography",
    "to_timestamp", "to_unixtime", "to_utf8", "transform", "transform_keys", "transform_values",
    "translate", "trim", "trim_array", "truncate", "try", "try_cast", "typeof", "upper",
    "url_decode", "url_encode", "url_extract_fragment", "url_extract_host", "url_extract_parameter",
    "url_extract_path", "url_extract_port", "url_extract_protocol", "url_extract_query", "uuid",
    "value_at_quantile", "values_at_quantiles", "var_pop", "var_samp", "variance", "version",
    "week", "week_of_year", "width_bucket", "wilson_interval_lower", "wilson_interval_upper",
    "with_timezone", "word_stem", "xxhash64", "year", "year_of_week", "yow", "zip", "zip_with",
    "array", "unnest", "values", "exists", "in",
)) | {"group", "within", "over", "lateral", "table", "using", "on", "as", "and", "or", "not",
                    "unload", "into", "with", "to"}
# (the last set: SQL words a "(" may follow, such as WITHIN GROUP (ORDER BY x))

# DuckDB (or PostgreSQL) functions a learner may reach for, with the Trino way.
OTHER_ENGINE_FUNCTIONS: dict[str, str] = {
    "strftime": "use date_format(ts, '%Y-%m-%d') or format_datetime(ts, 'yyyy-MM-dd')",
    "strptime": "use date_parse(s, '%Y-%m-%d')",
    "string_agg": "use array_join(array_agg(x), ',') or listagg(x, ',') WITHIN GROUP (ORDER BY x)",
    "list": "use array_agg(x)",
    "list_agg": "use array_agg(x)",
    "median": "use approx_percentile(x, 0.5)",
    "quantile": "use approx_percentile(x, p)",
    "quantile_cont": "use approx_percentile(x, p)",
    "quantile_disc": "use approx_percentile(x, p)",
    "percentile_cont": "use approx_percentile(x, p)",
    "percentile_disc": "use approx_percentile(x, p)",
    "mode": "count per value with GROUP BY and keep the largest (ORDER BY ... LIMIT 1)",
    "arg_max": "use max_by(x, y)",
    "argmax": "use max_by(x, y)",
    "max_by_n": "use max_by(x, y, n)",
    "arg_min": "use min_by(x, y)",
    "argmin": "use min_by(x, y)",
    "first": "use arbitrary(x), or min_by(x, y) for the first by some order",
    "last": "use arbitrary(x), or max_by(x, y) for the last by some order",
    "date_part": "use extract(YEAR FROM d), or year(d), month(d), day(d)",
    "datepart": "use extract(YEAR FROM d), or year(d), month(d), day(d)",
    "epoch": "use to_unixtime(ts)",
    "epoch_ms": "use to_unixtime(ts) * 1000",
    "today": "use current_date",
    "make_date": "use date(format('%04d-%02d-%02d', y, m, d)) or from_iso8601_date(s)",
    "age": "use date_diff('day', start, end)",
    "len": "use length(s), or cardinality(array)",
    "strlen": "use length(s)",
    "string_split": "use split(s, delimiter)",
    "str_split": "use split(s, delimiter)",
    "string_split_regex": "use regexp_split(s, pattern)",
    "regexp_matches": "use regexp_like(s, pattern)",
    "regexp_full_match": "use regexp_like(s, '^pattern$')",
    "prefix": "use starts_with(s, prefix)",
    "suffix": "use ends_with(s, suffix)",
    "printf": "use format(fmt, args...)",
    "generate_series": "use sequence(start, stop)",
    "range": "use sequence(start, stop)",
    "array_length": "use cardinality(array)",
    "list_value": "use ARRAY[x, y]",
    "struct_pack": "use CAST(ROW(x, y) AS ROW(a type, b type))",
    "trunc": "use truncate(x)",
    "weekofyear": "use week_of_year(d) or week(d)",
    "isodow": "use day_of_week(d)",
    "hash": "use xxhash64(to_utf8(s))",
    "to_json": "use json_format(CAST(x AS JSON))",
    "array_to_string": "use array_join(array, ',')",
}
_OTHER = "Athena runs Trino SQL, not DuckDB or PostgreSQL"


def _fail(name: str, message: str, sql: str, token: Token, hint: str,
          prefix: str = _MYSQL) -> AthenaQueryError:
    line, column = position(sql, token.start)
    return AthenaQueryError(name, f"{message}. {prefix}: {hint}", line, column)


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
        # CREATE VIEW and CREATE TABLE ... AS <anything> (awswrangler wraps any statement so);
        # CREATE [EXTERNAL] TABLE (...) is Hive DDL.
        return "VIEW" in words or any(t.token_type == TokenType.SELECT for t in tokens) \
            or ctas_query_start(sql) is not None
    return False


def check_trino_sql(sql: str) -> None:
    """Fail (as Athena would, plus a hint) on MySQL syntax or functions that Trino rejects.

    Syntax errors are reported before unknown functions, as Trino parses first.
    """
    check_trino_syntax(sql)
    check_trino_functions(sql)


def check_trino_syntax(sql: str) -> None:
    """Fail with SYNTAX_ERROR (plus the Trino spelling) on MySQL syntax that Trino cannot parse:
    backticks, ``LIMIT m, n``, ``INTERVAL 1 DAY``, ``REGEXP``, ``LEFT(...)``. Part of the parse
    stage: Athena refuses such a statement at StartQueryExecution."""
    _check_syntax(sql, _tokens(sql))


def check_trino_functions(sql: str) -> None:
    """Fail with FUNCTION_NOT_FOUND (plus the Trino spelling) on a function Trino does not have.
    A semantic error: the query runs and ends FAILED, as on Athena."""
    _check_functions(sql, _tokens(sql))


def mysql_function_hint(sql: str) -> str | None:
    """The Trino spelling of the first MySQL-only function the statement calls (None: none).

    For a statement that does not parse because of a MySQL construct inside such a call
    (``GROUP_CONCAT(x SEPARATOR ',')``): the parse error comes first, the hint still helps.
    """
    tokens = _tokens(sql)
    for token, after in zip(tokens, tokens[1:], strict=False):
        name = token.text.lower()
        if after.token_type == TokenType.L_PAREN and token.token_type != TokenType.STRING \
                and name in MYSQL_ONLY_FUNCTIONS:
            return f"{_MYSQL}: {name}: {MYSQL_ONLY_FUNCTIONS[name]}"
    return None


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
    for _token, error in _function_errors(sql, tokens):
        raise error


def _function_errors(sql: str, tokens: list[Token]) -> Iterator[tuple[Token, AthenaQueryError]]:
    """Each call of a function Trino does not have (or of date_add with an INTERVAL): its name's
    token and the FUNCTION_NOT_FOUND error it makes, in the order of the text."""
    names_in_query: set[str] | None = None  # tables, columns, aliases: parsed only when needed
    for index, token in enumerate(tokens[:-1]):
        if tokens[index + 1].token_type != TokenType.L_PAREN or token.token_type == TokenType.STRING:
            continue
        if index > 0 and tokens[index - 1].token_type == TokenType.DOT:
            continue
        name = token.text.lower()
        if name in MYSQL_ONLY_FUNCTIONS:
            yield token, _fail("FUNCTION_NOT_FOUND", f"Function '{name}' not registered", sql, token,
                               MYSQL_ONLY_FUNCTIONS[name])
            continue
        if name not in TRINO_FUNCTIONS and (token.token_type == TokenType.VAR
                                            or name in OTHER_ENGINE_FUNCTIONS):
            if names_in_query is None:
                names_in_query = _identifiers(sql)
            if name not in names_in_query:  # `WITH t(a, b)`, `AS x(a)`, `INSERT INTO t (...)`
                hint = OTHER_ENGINE_FUNCTIONS.get(
                    name, "look up the Trino spelling in trino.io/docs/current/functions/list.html")
                prefix = _OTHER if name in OTHER_ENGINE_FUNCTIONS else "Athena runs Trino SQL"
                yield token, _fail("FUNCTION_NOT_FOUND", f"Function '{name}' not registered", sql, token,
                                   hint, prefix=prefix)
                continue
        if name == "date_add" and _has_interval_argument(tokens, index + 1):
            yield token, _fail("FUNCTION_NOT_FOUND", "Unexpected parameters for function date_add. "
                               "Expected: date_add(varchar(x), bigint, date), date_add(varchar(x), bigint, "
                               "timestamp(p))", sql, token,
                               "use date_add('day', n, x) or x + INTERVAL 'n' DAY")


def with_plain_calls(sql: str) -> str | None:
    """The statement with the name of every call :func:`check_trino_functions` fails renamed to a
    plain one of the same length (None: there is none).

    Trino's grammar reads ``name(expression, ...)`` whatever the name; sqlglot parses some
    names its own way (``DATE_ADD(d, INTERVAL '1' DAY)`` wants three arguments). If the renamed
    text parses, so does the original in Trino: its error is the function's, when it runs.
    """
    tokens = _tokens(sql)
    calls = [token for token, _error in _function_errors(sql, tokens)]
    if not calls:
        return None
    text = sql
    for token in calls:
        text = text[:token.start] + "z" * (token.end + 1 - token.start) + text[token.end + 1:]
    return text


def _identifiers(sql: str) -> set[str]:
    """Lower-cased names of the tables, columns, CTEs and aliases the statement mentions."""
    try:
        trees = sqlglot.parse(sql, read="trino")
    except sqlglot.errors.SqlglotError:
        return set()  # the parser reports the real problem
    return {node.name.lower() for tree in trees if tree is not None
            for node in tree.find_all(exp.Identifier)}


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


# The DuckDB function (registered by the engine) that spells a DuckDB type name as Trino's typeof does.
TYPE_NAME_FUNCTION = "athena_trino_type"
_INT32 = 2**31 - 1


def _random(bound: exp.Expression) -> exp.Expression:
    """Trino's ``random(n)``: an integer in [0, n) of n's type; n must be positive."""
    kind = "BIGINT"
    if isinstance(bound, exp.Literal) and not bound.is_string and bound.name.isdigit() \
            and int(bound.name) <= _INT32:
        kind = "INTEGER"
    value = exp.Cast(this=exp.func("FLOOR", exp.Mul(this=exp.Rand(), expression=bound.copy())),
                     to=exp.DataType.build(kind))
    failure = exp.Anonymous(this="error", expressions=[
        exp.Literal.string("INVALID_FUNCTION_ARGUMENT: bound must be positive")])
    return exp.Case(ifs=[exp.If(this=exp.GT(this=bound.copy(), expression=exp.Literal.number(0)),
                                true=value)], default=failure)


# One conversion of a Java format string: %[index$][flags][width][.precision]conversion.
_JAVA_SPEC = re.compile(r"%(\d+\$)?([-#+ 0,(<]*)(\d+)?(\.\d+)?([a-zA-Z%])")


def _java_format(node: exp.Format) -> exp.Expression:
    """Trino's ``format(fmt, args...)`` (java.util.Formatter) as DuckDB's ``printf``: the same
    C-like conversions, except that %s and %b take any value, which printf wants as text."""
    pattern = node.this
    args = [a.copy() for a in node.expressions]
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        text_args: set[int] = set()
        sequential = 0
        out, last = [], 0
        for match in _JAVA_SPEC.finditer(pattern.this):
            conversion = match.group(5)
            if conversion in "%n":
                continue
            index = int(match.group(1)[:-1]) - 1 if match.group(1) else sequential
            if not match.group(1):
                sequential += 1
            if conversion in "sSbB":
                text_args.add(index)
                if conversion in "bB":  # %b is "true"/"false" in Java, 1/0 in printf
                    out.append(pattern.this[last:match.start()] + match.group(0)[:-1] + "s")
                    last = match.end()
        out.append(pattern.this[last:])
        pattern = exp.Literal.string("".join(out))
        for index in text_args:
            if index < len(args):
                args[index] = exp.Cast(this=args[index], to=exp.DataType.build("VARCHAR"))
    return exp.Anonymous(this="printf", expressions=[pattern.copy(), *args])


def literal_type(node: exp.Expression) -> exp.DataType | None:
    """Trino's type of a constant built only of literals, where DuckDB's would differ
    (Trino types ``'foo'`` as ``varchar(3)``, DuckDB as VARCHAR): string, integer and
    boolean literals and ARRAY/MAP constructors of them. None for anything else."""
    if isinstance(node, exp.Literal):
        if node.is_string:
            return athena_types.sized(T.VARCHAR, len(node.this))
        if node.is_int:
            return exp.DataType(this=T.INT if abs(int(node.this)) <= _INT32 else T.BIGINT)
        return None
    if isinstance(node, exp.Boolean):
        return exp.DataType(this=T.BOOLEAN)
    if isinstance(node, exp.Neg):
        return literal_type(node.this)
    if isinstance(node, exp.Array) and node.expressions:
        items = [literal_type(item) for item in node.expressions]
        common = _common_type(items)
        return athena_types.nested(T.ARRAY, [common]) if common is not None else None
    if isinstance(node, exp.Map) and isinstance(node.args.get("keys"), exp.Array) \
            and isinstance(node.args.get("values"), exp.Array):
        keys, values = literal_type(node.args["keys"]), literal_type(node.args["values"])
        if keys is not None and values is not None:
            return athena_types.nested(T.MAP, [keys.expressions[0], values.expressions[0]])
    return None


def _common_type(items: list[exp.DataType | None]) -> exp.DataType | None:
    """The type Trino gives an array of these literal types (the widest varchar or integer)."""
    if not items or any(item is None for item in items):
        return None
    kinds = {item.this for item in items if item is not None}
    if kinds == {T.VARCHAR}:
        return athena_types.sized(T.VARCHAR, max(athena_types.precision(i, 0) or 0
                                                 for i in items if i is not None))
    if kinds <= {T.INT, T.BIGINT}:
        return exp.DataType(this=T.BIGINT if T.BIGINT in kinds else T.INT)
    return items[0] if len(kinds) == 1 else None


def _timestamp_precision(cast: exp.Cast) -> None:
    """``timestamp(p)`` as the DuckDB type that keeps its digits: p <= 3 is DuckDB's TIMESTAMP
    (read back as timestamp(3)), p = 4..9 TIMESTAMP_NS (read back as timestamp(6)); see types.py."""
    digits = athena_types.precision(cast.to)
    if cast.to.this is T.TIMESTAMP and digits is not None:
        cast.set("to", exp.DataType(this=T.TIMESTAMP_NS if digits > 3 else T.TIMESTAMP))


def rewrite_trino_functions(tree: exp.Expression) -> exp.Expression:
    """Give Trino's semantics to what DuckDB spells or types differently.

    - ``format_datetime`` (Joda pattern) -> ``strftime``;
    - ``nan()``, ``infinity()``, ``is_finite``, ``is_infinite`` (DuckDB has other names);
    - ``random(n)``: an integer below n (DuckDB would take n as a seed); n <= 0 fails;
    - ``typeof(x)``: Trino's type names (``integer``, ``varchar(3)``, ``array(integer)``...),
      computed here for constants (:func:`literal_type`), else from DuckDB's type at run time;
    - ``TIMESTAMP '... .123456'`` and ``CAST(x AS timestamp(6))`` keep their microseconds;
    - ``CAST(x AS JSON)``: a varchar becomes a JSON string (Trino does not parse it; json_parse does);
    - a bare ``1.10`` is a DOUBLE, as Athena parses decimal literals (awswrangler's tests, run
      against AWS, read ``SELECT 1.2`` as float64); ``DECIMAL '1.10'`` is typed by :func:`sql.parse`.
    """
    for node in list(tree.find_all(exp.Anonymous)):
        name, args = node.name.lower(), node.expressions
        if name == "format_datetime" and len(args) == 2:
            value, pattern = args
            if isinstance(pattern, exp.Literal) and pattern.is_string:
                node.replace(exp.func("STRFTIME", value.copy(),
                                      exp.Literal.string(joda_to_strftime(pattern.name))))
        elif name in ("nan", "infinity") and not args:
            node.replace(exp.Cast(this=exp.Literal.string("NaN" if name == "nan" else "Infinity"),
                                  to=exp.DataType.build("DOUBLE")))
        elif name in ("is_infinite", "is_finite") and len(args) == 1:
            node.set("this", "isinf" if name == "is_infinite" else "isfinite")
        elif name in trino_functions.NAMES:
            node.set("this", trino_functions.NAMES[name])
    for node in list(tree.find_all(exp.FromISO8601Date)):
        node.replace(exp.Anonymous(this=trino_functions.NAMES["from_iso8601_date"],
                                   expressions=[node.this.copy()]))
    for node in list(tree.find_all(exp.Format)):
        node.replace(_java_format(node))
    for node in list(tree.find_all(exp.Rand)):
        if node.this is not None:
            node.replace(_random(node.this))
    for node in list(tree.find_all(exp.Literal)):
        # Athena reads 1.2 as a DOUBLE (DECIMAL '1.2' is the exact decimal); DuckDB as DECIMAL(2,1).
        if not node.is_string and "." in node.name and not isinstance(node.parent, exp.Cast):
            node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build("DOUBLE")))
    for node in list(tree.find_all(exp.Cast)):
        literal = node.this
        if node.to.is_type(exp.DataType.Type.JSON):
            node.replace(exp.Anonymous(this="to_json", expressions=[literal.copy()]))
        else:
            _timestamp_precision(node)
    for node in list(tree.find_all(exp.Typeof)):
        constant = literal_type(node.this)
        if constant is not None:
            node.replace(exp.Literal.string(athena_types.trino_name(constant)))
        else:
            node.replace(exp.Anonymous(this=TYPE_NAME_FUNCTION, expressions=[node.copy()]))
    return tree
