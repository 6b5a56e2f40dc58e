"""The Athena engine: Athena SQL over the Glue Data Catalog and S3, executed by DuckDB.

It knows nothing of HTTP or of query-execution bookkeeping (that is
``models.py``): given one SQL statement and a context (current database,
parameters, where CTAS data may go; :mod:`.statement`), it classifies the
statement and dispatches it to its family, each a mixin of :class:`AthenaEngine`:

- :mod:`.query`: SELECT / WITH / VALUES, over the Glue catalog and S3 read in
  process (``storage.py``), rows streamed (:class:`~.query.ResultStream`);
- :mod:`.writes`: CREATE TABLE AS SELECT, INSERT INTO and UNLOAD, published only
  at the query's commit point (:attr:`~.statement.QueryContext.commit`);
- :mod:`.ddl`: CREATE EXTERNAL TABLE, CREATE/DROP DATABASE, DROP TABLE,
  CREATE/DROP VIEW, MSCK REPAIR TABLE and ALTER TABLE on the Glue catalog;
- :mod:`.show`: SHOW TABLES/DATABASES/COLUMNS/PARTITIONS/CREATE TABLE, DESCRIBE, EXPLAIN;
- :mod:`.cache`: the decoded-data cache (table scans kept as DuckDB tables until
  their objects change, so repeated queries cost about what DuckDB itself costs).

Memory stays inside the budgets of :mod:`~utils.cloud.athena.memory`: DuckDB runs
with a ``memory_limit`` and spills to disk beyond it; a query's rows are never
held whole in Python but streamed to the file that will become the result or
data object; a stopped or failed query leaves nothing behind.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
from sqlglot import exp

from utils.cloud.athena import dialect as athena_dialect
from utils.cloud.athena import functions as trino_functions
from utils.cloud.athena import memory, prepared
from utils.cloud.athena import sql as athena_sql
from utils.cloud.athena.cache import NativeTables
from utils.cloud.athena.ddl import CatalogStatements
from utils.cloud.athena.errors import AthenaQueryError, position
from utils.cloud.athena.query import QueryStatements
from utils.cloud.athena.show import ShowStatements
from utils.cloud.athena.statement import DEFAULT_CATALOG, QueryContext, StatementResult
from utils.cloud.athena.storage import ColumnCache
from utils.cloud.athena.types import duck_to_trino_type
from utils.cloud.athena.writes import WriteStatements, _parse_create_table
from utils.cloud.backends import GlueCatalog, ObjectStore

# Statements Athena knows but the local Athena does not run (NOT_SUPPORTED, not a syntax error).
_OTHER_STATEMENTS = {"MERGE", "UPDATE", "DELETE", "PREPARE", "EXECUTE", "DEALLOCATE", "OPTIMIZE",
                     "VACUUM", "GRANT", "REVOKE", "USE", "SET", "RESET", "CALL", "COMMENT", "ANALYZE",
                     "COMMIT", "ROLLBACK", "START", "DENY", "REFRESH", "TRUNCATE"}
# The words a statement may start with (Trino's grammar, plus Hive's MSCK); anything else does not parse.
_STATEMENT_WORDS = _OTHER_STATEMENTS | {"SELECT", "WITH", "VALUES", "TABLE", "INSERT", "CREATE", "DROP",
                                        "ALTER", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "UNLOAD", "MSCK"}
_EXPECTING_STATEMENT = ("Expecting: 'ALTER', 'ANALYZE', 'CALL', 'COMMENT', 'COMMIT', 'CREATE', 'DEALLOCATE', "
                        "'DELETE', 'DENY', 'DESC', 'DESCRIBE', 'DROP', 'EXECUTE', 'EXPLAIN', 'GRANT', "
                        "'INSERT', 'MERGE', 'PREPARE', 'REFRESH', 'RESET', 'REVOKE', 'ROLLBACK', 'SET', "
                        "'SHOW', 'START', 'TRUNCATE', 'UNLOAD', 'UPDATE', 'USE', <query>")
# CREATE [OR REPLACE] VIEW name AS query (ddl.py reads it the same way when it runs).
_CREATE_VIEW = re.compile(rf"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+{athena_sql.QUALIFIED_NAME}"
                          r"\s+AS\s+(.*)$", re.IGNORECASE | re.DOTALL)
_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(?:ANALYZE\s+(?:VERBOSE\s+)?)?(?:\([^)]*\)\s*)?(.*)$",
                      re.IGNORECASE | re.DOTALL)


@dataclass
class ParsedStatement:
    """A statement past Athena's parse stage: its text, leading keywords and, for a query,
    INSERT or CREATE TABLE, its sqlglot tree (None for the keyword-led statements).

    ``deferred``: parsed again when the query runs (:func:`parse_statement` ``at_start`` left it
    for then): a Hive DDL CREATE TABLE, whose parse errors end the query FAILED on Athena, or a
    statement whose only trouble is a function Trino lacks (a semantic error, FAILED too).
    """

    text: str
    words: list[str]
    tree: exp.Expression | None = None
    on_trino: bool = False
    deferred: bool = False


def parse_at_start(sql: str) -> ParsedStatement | None:
    """What StartQueryExecution checks before it makes a query: raise :class:`AthenaQueryError`
    SYNTAX_ERROR when the statement does not parse (Athena refuses it: InvalidRequestException,
    no query), else return it parsed for the run (None: parsed when it runs).

    PREPARE's statement is parsed too (positions in the whole PREPARE); EXECUTE's prepared
    statement is parsed when it runs. A failure of the parse stage itself (a bug of ours) is
    left for the run to report.
    """
    try:
        statement = prepared.parse(sql)
        if statement is None:
            return parse_statement(sql, at_start=True)
        if statement.kind == "PREPARE":
            body_at = max(0, sql.find(statement.body, sql.upper().find("FROM")))
            parse_statement(re.sub(r"[^\n]", " ", sql[:body_at]) + statement.body, at_start=True)
        return None
    except AthenaQueryError as err:
        if err.name != "SYNTAX_ERROR":
            return None  # not a parse error: the query reports it when it runs
        raise
    except Exception as exc:  # a bug of ours in the parse stage: let the run report it
        print(f"local Athena: parse stage failed on {sql[:80]!r}: {exc!r}", file=sys.stderr, flush=True)
        return None


def parse_statement(sql: str, *, at_start: bool = False) -> ParsedStatement:
    """Athena's parse stage: read the statement as Trino's grammar would, or fail with SYNTAX_ERROR.

    What fails here does not parse in Trino either: Athena refuses it at StartQueryExecution
    (InvalidRequestException) instead of running it. That is MySQL syntax Trino rejects
    (:func:`~.dialect.check_trino_syntax`, with the Trino spelling as a hint), a query, INSERT or
    CTAS sqlglot cannot parse, the query inside CREATE VIEW, UNLOAD or EXPLAIN, and a statement
    that starts with no statement's keyword. Unknown functions, tables and columns are semantic:
    they fail when the query runs.

    ``at_start``: as StartQueryExecution checks it. Hive's CREATE [EXTERNAL] TABLE is left
    unparsed (``deferred``: Athena reports its errors as a FAILED query), and so is a statement
    that parses once its calls of functions Trino lacks are renamed (sqlglot reads some of those
    names its own way; Trino's error is the function's). Otherwise (when the query runs) unknown
    functions are reported before sqlglot parses, as they always were. Positions are in ``sql``
    as given (leading blank lines count).
    """
    try:
        return _parse_stage(athena_sql.strip_statement(sql), at_start)
    except AthenaQueryError as err:
        raise _shifted(err, sql[:len(sql) - len(sql.lstrip())]) from None


def _parse_stage(text: str, at_start: bool) -> ParsedStatement:
    words = athena_sql.leading_keywords(text).split()
    on_trino = athena_dialect.runs_on_trino(text)
    if on_trino:
        athena_dialect.check_trino_syntax(text)  # MySQL-isms that sqlglot would quietly accept
        if not at_start:
            athena_dialect.check_trino_functions(text)
    first = words[0] if words else ""
    if first == "CREATE" and not on_trino and at_start:
        return ParsedStatement(text, words, on_trino=on_trino, deferred=True)
    try:
        tree = _parse_statement(text, words)  # parsed once; None for the keyword-led statements
    except AthenaQueryError as err:
        if err.name != "SYNTAX_ERROR" or not on_trino:
            raise
        plain = athena_dialect.with_plain_calls(text)
        if plain is not None:
            try:
                _parse_statement(plain, words)
            except AthenaQueryError:
                pass
            else:  # Trino parses it: the unknown function fails when the query runs
                return ParsedStatement(text, words, on_trino=on_trino, deferred=True)
        hint = athena_dialect.mysql_function_hint(text)
        if hint and hint not in err.message:
            err.message = f"{err.message}. {hint}"
        raise
    if tree is None:
        _check_keyword_statement(text, words)
    return ParsedStatement(text, words, tree, on_trino)


def _check_keyword_statement(text: str, words: list[str]) -> None:
    """The parse stage of a keyword-led statement: its leading word, and the query it holds
    (CREATE VIEW, UNLOAD, EXPLAIN). A form the families do not recognise is left to them: it may
    be valid Trino the local Athena does not run (CREATE MATERIALIZED VIEW...)."""
    first = words[0] if words else ""
    if not first:
        raise AthenaQueryError("SYNTAX_ERROR", f"mismatched input '<EOF>'. {_EXPECTING_STATEMENT}",
                               *position(text, len(text)))
    if first not in _STATEMENT_WORDS and not first.startswith("UNLOAD("):
        original = text.lstrip().split()[0]
        raise AthenaQueryError("SYNTAX_ERROR", f"mismatched input '{original}'. {_EXPECTING_STATEMENT}",
                               *position(text, text.find(original)))
    if first == "CREATE" and "VIEW" in words[1:4]:
        match = _CREATE_VIEW.match(text)
        if match:
            athena_sql.parse_query(text, match.start(1))
    elif first.startswith("UNLOAD"):
        match = WriteStatements._UNLOAD.match(text)
        if match:
            athena_sql.parse_query(text, match.start("query"), match.end("query"))
    elif first == "EXPLAIN":
        match = _EXPLAIN.match(text)
        if match and match.group(1).strip():
            blanked = re.sub(r"[^\n]", " ", text[:match.start(1)])  # positions in the whole text
            parse_statement(blanked + match.group(1), at_start=True)


def _shifted(err: AthenaQueryError, lead: str) -> AthenaQueryError:
    """The error with its position in the text before its leading blanks were stripped."""
    if err.line is not None and lead:
        if err.line == 1 and err.column is not None:
            err.column += len(lead) - (lead.rfind("\n") + 1)
        err.line += lead.count("\n")
    return err


class AthenaEngine(QueryStatements, WriteStatements, CatalogStatements, ShowStatements):
    """Executes Athena statements against the local Glue catalog and S3 with DuckDB."""

    def __init__(self, region: str | None = None, cache_bytes: int | None = None) -> None:
        self.region = region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        self.budget = memory.budget()
        self.cache = ColumnCache(cache_bytes or self.budget.column_cache)
        self.work_dir = memory.work_dir()
        self.spool_dir = self.work_dir / "spool"
        # One in-memory DuckDB database; each query gets its own cursor (a cheap,
        # isolated connection: its registered tables are invisible to other queries).
        # Its memory limit holds for all queries together; beyond it, it spills to disk.
        self._duckdb = duckdb.connect(config=memory.duckdb_config(
            self.budget, self.work_dir / "duckdb", max(1, os.cpu_count() or 1)))
        self._duckdb.create_function(athena_dialect.TYPE_NAME_FUNCTION, duck_to_trino_type, ["VARCHAR"],
                                     "VARCHAR")  # typeof() as Trino spells types
        trino_functions.register(self._duckdb)
        self._duckdb.execute(athena_sql.QUOTIENT_MACRO_SQL)  # exact decimal division
        self._duckdb.execute("SELECT 1").fetchall()  # first query pays DuckDB's warm-up
        self.native = NativeTables(self._duckdb, self.budget.native_cache)
        self._lock = threading.Lock()

    # ------------------------------------------------------------- adapters

    def store(self) -> ObjectStore:
        """The local S3 (looked up per call: moto may have been reset)."""
        return ObjectStore()

    def glue(self) -> GlueCatalog:
        """The local Glue Data Catalog, with Athena's ``default`` database in it.

        On AWS, AwsDataCatalog always has a database named ``default``: the one a query
        without a database runs in (and the one awswrangler's CTAS uses by default).
        """
        catalog = GlueCatalog(self.region)
        catalog.create_database("default", "Default Hive database")  # no-op once it exists
        return catalog

    # ------------------------------------------------------------ dispatch

    def execute(self, sql: str, ctx: QueryContext, parsed: ParsedStatement | None = None) -> StatementResult:
        """Run one statement; raise :class:`AthenaQueryError` with Athena's wording on failure.

        ``parsed``: what :func:`parse_statement` made of ``sql`` when the query started
        (parsed once); without it the statement is parsed here.
        """
        started = time.perf_counter()
        if ctx.catalog.lower() != DEFAULT_CATALOG:
            raise AthenaQueryError("CATALOG_NOT_FOUND", f"Catalog '{ctx.catalog}' does not exist. The "
                                   "local cloud has one catalog: AwsDataCatalog.")
        # Athena accepts a quoted database name in the context (awswrangler sends `db`).
        ctx.database = athena_sql.unquote(ctx.database or "default")
        if parsed is None or parsed.deferred:
            parsed = parse_statement(sql)
        elif parsed.on_trino:
            athena_dialect.check_trino_functions(parsed.text)  # DuckDB would run MySQL's and its own
        result = self._handler_for(parsed.tree, parsed.words)(parsed.text, ctx)
        result.engine_ms = int((time.perf_counter() - started) * 1000)
        return result

    def _handler_for(self, tree: exp.Expression | None,
                     words: list[str]) -> Callable[[str, QueryContext], StatementResult]:
        """The one classifier: the parsed node's type, else the statement's leading keywords."""
        if tree is not None:
            if isinstance(tree, (exp.Query, exp.Values)):
                return functools.partial(self._select, tree=tree)
            if isinstance(tree, exp.Insert):
                return functools.partial(self._insert, tree=tree)
            if isinstance(tree, exp.Create) and tree.expression is not None:
                return functools.partial(self._ctas, tree)
            if isinstance(tree, exp.Create):
                return functools.partial(self._create_external_table, tree)
            return self._unsupported
        first = words[0] if words else ""
        second = words[1] if len(words) > 1 else ""
        if first == "SHOW":
            return self._show
        if first == "EXPLAIN":
            return self._explain
        if first in ("DESCRIBE", "DESC"):
            return self._describe
        if first == "UNLOAD" or first.startswith("UNLOAD("):
            return self._unload
        if first == "MSCK":
            return self._msck_repair
        if first == "ALTER":
            return self._alter_table
        if first in ("CREATE", "DROP") and second in ("DATABASE", "SCHEMA"):
            return self._database_ddl
        if first == "DROP" and second in ("TABLE", "VIEW"):
            return self._drop_table
        if first == "CREATE" and ("VIEW" in words[1:4]):
            return self._create_view
        return self._unsupported

    def _unsupported(self, text: str, ctx: QueryContext) -> StatementResult:
        word = athena_sql.leading_keywords(text).split(" ")[0] if text else ""
        if not word:
            raise AthenaQueryError("SYNTAX_ERROR", "Empty query: nothing to run", 1, 1)
        if word not in _OTHER_STATEMENTS:
            original = text.strip().split()[0] if text.strip() else word
            raise AthenaQueryError("SYNTAX_ERROR", f"mismatched input '{original}'. {_EXPECTING_STATEMENT}",
                                   1, 1)
        raise AthenaQueryError("NOT_SUPPORTED", f"'{word}' statements are not supported by the local "
                               "Athena (it runs SELECT, CTAS, UNLOAD, INSERT INTO, SHOW, DESCRIBE and "
                               "table/database DDL)", 1, 1)


def _parse_statement(text: str, words: list[str]) -> exp.Expression | None:
    """The sqlglot tree of a query, INSERT or CREATE TABLE; None for the keyword-led statements.

    SHOW, DESCRIBE, EXPLAIN, UNLOAD, MSCK, ALTER, DROP, CREATE VIEW and CREATE DATABASE
    are Hive/Athena syntax sqlglot does not model: their families read the text.
    """
    first = words[0] if words else ""
    second = words[1] if len(words) > 1 else ""
    if first in ("SELECT", "WITH", "VALUES", "(", "TABLE", "INSERT") or first.startswith("("):
        return athena_sql.parse(text)
    if first == "CREATE" and second not in ("DATABASE", "SCHEMA") and "VIEW" not in words[1:4]:
        return _parse_create_table(text)
    return None
