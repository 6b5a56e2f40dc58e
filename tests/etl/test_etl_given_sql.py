"""SQL given to the job for one star table (``--<table>_sql_uri``): checked, sandboxed, conformed.

The learner's SQL is untrusted: it must be exactly one SELECT (DuckDB's parser decides), and it
runs with DuckDB's external access disabled and its configuration locked, so reading or writing
files, ATTACH, INSTALL/LOAD and SET fail with a clear message and write nothing. A result that
lacks a column, has a wrong type or does not reconcile fails the run; nothing is published.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from utils.etl import job
from utils.etl.job import (
    STAR_SQL,
    DbConfig,
    ReconciliationError,
    TransformError,
    check_source_schema,
    column_checksums,
    extract,
    given_transforms,
    run,
    single_select,
    transform,
)

BUCKET = "de-c1w2-123456789012-us-east-1-data-lake"
GOLD = f"s3://{BUCKET}/gold"

FACT_SQL = """
SELECT od.orderNumber, od.orderLineNumber, o.customerNumber, c.locationKey, od.productCode,
       o.orderDate, o.requiredDate, o.shippedDate, o.status, o.comments,
       od.quantityOrdered, od.priceEach, od.quantityOrdered * od.priceEach AS orderAmount,
       p.buyPrice, p.MSRP
FROM orderdetails AS od
LEFT JOIN orders AS o ON o.orderNumber = od.orderNumber
LEFT JOIN stg_customers AS c ON c.customerNumber = o.customerNumber
LEFT JOIN products AS p ON p.productCode = od.productCode
"""


@pytest.fixture(scope="module")
def source(sf1_db: DbConfig) -> dict[str, pa.Table]:
    tables, _ = check_source_schema(extract(sf1_db))
    return tables


@pytest.fixture(scope="module")
def built(source: dict[str, pa.Table]) -> dict[str, pa.Table]:
    return transform(source)


def given(source: dict[str, pa.Table], table: str, sql: str) -> dict[str, pa.Table]:
    return transform(source, given={table: single_select(table, sql)})


# ------------------------------------------------------------------ exactly one SELECT


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT 1; SELECT 2", "has 2 statements"),
    ("SELECT 1; DROP TABLE orders", "has 2 statements"),
    ("COPY (SELECT * FROM customers) TO '/tmp/leak.csv'", "COPY statement"),
    ("ATTACH '/tmp/other.db' AS other", "an ATTACH statement"),
    ("INSTALL httpfs", "statement; the job runs only a SELECT"),
    ("SET enable_external_access = true", "statement; the job runs only a SELECT"),
    ("CREATE TABLE x AS SELECT 1", "CREATE statement"),
    ("SELEC orderNumber FROM orders", "does not parse"),
    ("  -- nothing but a comment\n", "is empty"),
])
def test_anything_but_one_select_is_refused_with_a_clear_message(sql: str, message: str) -> None:
    with pytest.raises(TransformError, match=message) as caught:
        single_select("fact_orders", sql)
    assert "fact_orders" in str(caught.value)


def test_one_select_may_end_with_a_semicolon_and_use_ctes() -> None:
    assert single_select("dim_products", "WITH p AS (SELECT 1 AS x) SELECT x FROM p;\n") == \
        "WITH p AS (SELECT 1 AS x) SELECT x FROM p"


# ------------------------------------------------------------------ the sandbox


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM 'https://example.com/data.csv'",
    "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')",
])
def test_select_cannot_read_files_or_urls(source: dict[str, pa.Table], sql: str) -> None:
    refused = "failed in DuckDB: Permission Error: .*disabled by configuration"
    with pytest.raises(TransformError, match=refused):
        given(source, "fact_orders", sql)


@pytest.mark.parametrize(("statement", "target"), [
    ("COPY (SELECT * FROM customers) TO '{path}'", "leak.csv"),
    ("ATTACH '{path}' AS other", "other.db"),
])
def test_the_sandbox_holds_even_without_the_statement_check(
        source: dict[str, pa.Table], tmp_path: Path, statement: str, target: str) -> None:
    """Defence in depth: were a writing statement to get past single_select, DuckDB still refuses it."""
    path = tmp_path / target
    with pytest.raises(TransformError, match="Permission Error"):
        transform(source, given={"fact_orders": statement.format(path=path)})
    assert not path.exists()


def test_select_cannot_read_the_jobs_python_variables(source: dict[str, pa.Table]) -> None:
    """DuckDB's Python client resolves unknown table names to variables of the calling frame."""
    dim_products = ("SELECT * EXCLUDE (buyPrice, MSRP), CAST(NULL AS VARCHAR) AS productLineDescription "
                    "FROM products")
    given_sql = {"dim_products": dim_products, "fact_orders": "SELECT * FROM relation"}
    with pytest.raises(TransformError, match="Catalog Error: Table with name relation does not exist"):
        transform(source, given=given_sql)


def test_the_sandbox_cannot_be_switched_off(source: dict[str, pa.Table]) -> None:
    with pytest.raises(TransformError, match="configuration has been locked"):
        transform(source, given={"fact_orders": "SET enable_external_access = true"})


# ------------------------------------------------------------------ the columns


def test_a_right_select_builds_the_same_table_as_the_job(source: dict[str, pa.Table],
                                                         built: dict[str, pa.Table]) -> None:
    star = given(source, "fact_orders", FACT_SQL)
    assert star["fact_orders"].schema == built["fact_orders"].schema
    assert column_checksums(star["fact_orders"]) == column_checksums(built["fact_orders"])
    assert list(star) == list(STAR_SQL), "the star keeps its tables' order"
    for table in ("dim_customers", "dim_products", "dim_locations", "dim_dates"):
        assert star[table].equals(built[table])


def test_names_are_matched_whatever_their_case_and_widths_are_cast(source: dict[str, pa.Table],
                                                                   built: dict[str, pa.Table]) -> None:
    sql = """
    SELECT p.productcode AS PRODUCTCODE, productname, productline, productscale, productvendor,
           productdescription, CAST(NULL AS VARCHAR) AS productLineDescription
    FROM products AS p
    """
    star = given(source, "dim_products", sql)
    assert star["dim_products"].schema.names == built["dim_products"].schema.names
    wider = FACT_SQL.replace("od.orderLineNumber", "CAST(od.orderLineNumber AS BIGINT) AS orderLineNumber")
    fact = given(source, "fact_orders", wider)
    assert fact["fact_orders"].schema == built["fact_orders"].schema


def test_a_missing_column_a_wrong_type_and_an_extra_column_are_each_named(
        source: dict[str, pa.Table]) -> None:
    sql = FACT_SQL.replace("c.locationKey, ", "").replace(
        "od.quantityOrdered * od.priceEach AS orderAmount",
        "od.quantityOrdered * CAST(od.priceEach AS DOUBLE) AS orderAmount, o.status AS orderStatus")
    with pytest.raises(TransformError) as caught:
        given(source, "fact_orders", sql)
    message = str(caught.value)
    assert "nothing was published" in message
    assert "missing column locationKey (VARCHAR)" in message
    assert "column orderAmount is DOUBLE; fact_orders needs DECIMAL(18,2) (money is exact" in message
    assert "extra column orderStatus: not a column of fact_orders" in message
    assert all(line.startswith("  ") for line in message.splitlines()[1:]), (
        "every line under the headline is indented (Glue reports the headline with them)")


def test_a_column_given_twice_or_as_text_is_refused(source: dict[str, pa.Table]) -> None:
    with pytest.raises(TransformError, match="column orderDate is VARCHAR; fact_orders needs DATE"):
        given(source, "fact_orders",
              FACT_SQL.replace("o.orderDate,", "CAST(o.orderDate AS VARCHAR) AS orderDate,"))
    with pytest.raises(TransformError, match="column productCode appears 2 times"):
        given(source, "fact_orders", FACT_SQL.replace("p.MSRP", "p.MSRP, p.productCode"))


def test_a_duckdb_error_is_reported_with_its_details(source: dict[str, pa.Table]) -> None:
    with pytest.raises(TransformError) as caught:
        given(source, "dim_products", "SELECT productDescripton FROM products")
    headline, *details = str(caught.value).splitlines()
    assert headline.startswith('The SQL given for dim_products failed in DuckDB: Binder Error: Referenced '
                               'column "productDescripton" not found')
    assert details and all(line.startswith("  ") for line in details), "DuckDB's hint stays indented"
    assert any("productDescription" in line for line in details), "DuckDB suggests the right name"


def test_a_cross_join_is_stopped_by_the_row_limit(source: dict[str, pa.Table], monkeypatch: Any) -> None:
    monkeypatch.setattr(job, "GIVEN_ROWS_PER_SOURCE_ROW", 1)
    sql = FACT_SQL.replace("LEFT JOIN products AS p ON p.productCode = od.productCode",
                           "CROSS JOIN products AS p")
    with pytest.raises(TransformError, match="returns more than .* rows.*join multiplies rows"):
        given(source, "fact_orders", sql)


def test_a_slow_select_is_interrupted(source: dict[str, pa.Table], monkeypatch: Any) -> None:
    monkeypatch.setattr(job, "GIVEN_SQL_SECONDS", 0.2)
    sql = FACT_SQL.replace("FROM orderdetails AS od", "FROM orderdetails AS od, range(100000000) AS slow(n)")
    with pytest.raises(TransformError, match="ran longer than 0 s and was stopped"):
        given(source, "fact_orders", sql)


def test_checksums_ignore_row_order_and_see_a_changed_column(built: dict[str, pa.Table]) -> None:
    fact = built["fact_orders"]
    assert column_checksums(fact) == column_checksums(fact.take(list(reversed(range(fact.num_rows)))))
    position = fact.schema.get_field_index("requiredDate")
    swapped = fact.set_column(position, "requiredDate", fact["shippedDate"])
    differ = [c for c, v in column_checksums(swapped).items() if column_checksums(fact)[c] != v]
    assert differ == ["requiredDate"]


# ------------------------------------------------------------------ arguments, S3 and the whole run


def _put(s3: Any, key: str, body: str | bytes) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode() if isinstance(body, str) else body)
    return f"s3://{BUCKET}/{key}"


def test_given_transforms_reads_the_sql_from_s3(s3: Any, capsys: Any) -> None:
    uri = _put(s3, "transforms/fact_orders-abc.sql", FACT_SQL)
    assert given_transforms({"fact_orders_sql_uri": uri, "target_path": GOLD}) == {
        "fact_orders": FACT_SQL.strip()}
    assert f"SQL given by --fact_orders_sql_uri {uri} (sha256 " in capsys.readouterr().out
    assert given_transforms({"target_path": GOLD}) == {}


@pytest.mark.parametrize(("arguments", "message"), [
    ({"dim_product_sql_uri": "s3://b/x.sql"}, "Unknown argument --dim_product_sql_uri"),
    ({"fact_orders_sql_uri": f"s3://{BUCKET}/transforms/missing.sql"}, "NoSuchKey. Upload the file first"),
    ({"fact_orders_sql_uri": "/tmp/fact.sql"}, "Not an S3 path"),
    ({"fact_orders_sql_uri": f"s3://{BUCKET}"}, "names a bucket, not an object"),
])
def test_bad_arguments_fail_clearly(s3: Any, arguments: dict[str, str], message: str) -> None:
    with pytest.raises(job.EtlError, match=message):
        given_transforms(arguments)


def test_a_binary_or_huge_file_is_refused(s3: Any) -> None:
    with pytest.raises(TransformError, match="not UTF-8 text"):
        given_transforms({"fact_orders_sql_uri": _put(s3, "transforms/bin.sql", b"\xff\xfe\x00")})
    huge = "SELECT 1 AS x" + " " * job.MAX_GIVEN_SQL_BYTES
    with pytest.raises(TransformError, match="larger than 64 KiB"):
        given_transforms({"fact_orders_sql_uri": _put(s3, "transforms/huge.sql", huge)})


def test_main_refuses_two_statements_before_reading_the_source(s3: Any, capsys: Any) -> None:
    uri = _put(s3, "transforms/two.sql", "SELECT 1; COPY customers TO '/tmp/leak.csv'")
    code = job.main(["--target_path", GOLD, "--fact_orders_sql_uri", uri, "--db_secret", "no-such-secret"])
    assert code == 1
    err = capsys.readouterr().err
    assert "ERROR: The SQL for fact_orders has 2 statements" in err
    assert "secret" not in err, "the SQL is checked before the credentials are looked up"


def _objects(s3: Any) -> dict[str, str]:
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="gold/")
    return {obj["Key"]: obj["ETag"] for obj in listing.get("Contents", [])}


def test_a_given_select_that_does_not_reconcile_publishes_nothing(s3: Any, sf1_db: DbConfig) -> None:
    run(sf1_db, GOLD, "good-run")
    before = _objects(s3)
    duplicating = single_select("dim_products", """
        SELECT p.productCode, p.productName, p.productLine, p.productScale, p.productVendor,
               p.productDescription, pl.textDescription AS productLineDescription
        FROM products AS p
        LEFT JOIN productlines AS pl ON pl.productLine = p.productLine
        JOIN orderdetails AS od ON od.productCode = p.productCode""")
    duplicates = r"dim_products.productCode unique and not null: \d+ duplicate"
    with pytest.raises(ReconciliationError, match=duplicates):
        run(sf1_db, GOLD, "bad-run", given={"dim_products": duplicating})
    assert _objects(s3) == before, "the previous tables stay"
    assert not s3.list_objects_v2(Bucket=BUCKET, Prefix="etl-staging/").get("Contents"), "staging cleaned up"


def test_a_right_given_select_is_published_with_its_checksums_logged(
        s3: Any, sf1_db: DbConfig, capsys: Any) -> None:
    run(sf1_db, GOLD, "given-run", given={"fact_orders": single_select("fact_orders", FACT_SQL)})
    out = capsys.readouterr().out
    logged = next(line for line in out.splitlines() if line.startswith("[transform] fact_orders checksums: "))
    sums = dict(item.split("=") for item in logged.split(": ", 1)[1].split())
    body = s3.get_object(Bucket=BUCKET, Key="gold/fact_orders/fact_orders.parquet")["Body"].read()
    assert column_checksums(pq.read_table(io.BytesIO(body))) == sums
    assert "[transform] sandbox: given SQL runs without file, network or extension access" in out
