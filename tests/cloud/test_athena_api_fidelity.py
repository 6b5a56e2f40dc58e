"""Athena fidelity (issue 16): text tables, compressed objects, API shapes, prepared statements,
result reuse, managed results, output formats and Glue table versions, through boto3."""

from __future__ import annotations

import bz2
import gzip
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.cloud.athena_helpers import BUCKET, RESULTS, ensure_lake, run_query, wait


@pytest.fixture(scope="module")
def lake(local_cloud: str) -> dict:
    return ensure_lake()


def fresh_database() -> str:
    name = f"fid_{uuid.uuid4().hex[:8]}"
    boto3.client("glue").create_database(DatabaseInput={"Name": name})
    return name


def text_table(database: str, name: str, columns: list[tuple[str, str]], delimiter: str = "\t") -> str:
    """A LazySimpleSerDe text table (as awswrangler.s3.to_csv registers one); its location."""
    location = f"s3://{BUCKET}/fidelity/{database}/{name}/"
    boto3.client("glue").create_table(DatabaseName=database, TableInput={
        "Name": name, "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "csv"},
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in columns],
            "Location": location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                          "Parameters": {"field.delim": delimiter}},
        },
    })
    return location


def put(uri: str, body: bytes) -> None:
    bucket, key = uri[5:].split("/", 1)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def rows(query_id: str) -> list[list[str | None]]:
    result = boto3.client("athena").get_query_results(QueryExecutionId=query_id)
    return [[d.get("VarCharValue") for d in r["Data"]] for r in result["ResultSet"]["Rows"][1:]]


def query_rows(sql: str, database: str) -> list[list[str | None]]:
    execution = run_query(sql, database=database)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get("StateChangeReason")
    return rows(execution["QueryExecutionId"])


# ------------------------------------------------------------- text tables


def test_text_timestamps_and_dates_are_parsed(lake: dict) -> None:
    database = fresh_database()
    location = text_table(database, "events", [("id", "bigint"), ("day", "date"), ("at", "timestamp")])
    put(location + "part-0.csv", b"1\t2020-01-01\t2020-01-01 00:00:00.000000\n"
                                 b"2\t\t\n"
                                 b"3\t2020-01-02\t2020-01-02 00:00:01.123456789\n"
                                 b"4\t2020-01-03\t2020-01-03 10:11:12\n")
    assert query_rows("SELECT id, day, at FROM events ORDER BY id", database) == [
        ["1", "2020-01-01", "2020-01-01 00:00:00.000"],
        ["2", None, None],
        ["3", "2020-01-02", "2020-01-02 00:00:01.123"],
        ["4", "2020-01-03", "2020-01-03 10:11:12.000"],
    ]


def test_text_timestamp_that_is_not_one_fails_as_bad_data(lake: dict) -> None:
    database = fresh_database()
    location = text_table(database, "events", [("at", "timestamp")])
    put(location + "part-0.csv", b"yesterday\n")
    execution = run_query("SELECT at FROM events", database=database)
    assert execution["Status"]["State"] == "FAILED"
    assert "HIVE_BAD_DATA" in execution["Status"]["StateChangeReason"]


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ""])
def test_compressed_text_objects_are_read_by_extension(lake: dict, suffix: str) -> None:
    database = fresh_database()
    location = text_table(database, "numbers", [("n", "int"), ("word", "string")], delimiter=",")
    body = b"".join(f"{i},w{i}\n".encode() for i in range(100))
    packed = {".gz": gzip.compress, ".bz2": bz2.compress, "": bytes}[suffix](body)
    put(location + f"part-0.csv{suffix}", packed)
    assert query_rows("SELECT count(*), sum(n), max(word) FROM numbers", database) == [["100", "4950", "w99"]]


# ------------------------------------------------------------ API shapes


def start(sql: str, **kwargs: object) -> str:
    return boto3.client("athena").start_query_execution(QueryString=sql, **kwargs)["QueryExecutionId"]


def test_managed_results_have_no_output_location(lake: dict) -> None:
    athena = boto3.client("athena")
    name = f"managed-{uuid.uuid4().hex[:8]}"
    athena.create_work_group(Name=name, Configuration={
        "ManagedQueryResultsConfiguration": {"Enabled": True}, "EnforceWorkGroupConfiguration": True})
    config = athena.get_work_group(WorkGroup=name)["WorkGroup"]["Configuration"]
    assert config["ManagedQueryResultsConfiguration"] == {"Enabled": True}
    assert "OutputLocation" not in config["ResultConfiguration"]
    query_id = start("SELECT 1 AS c UNION ALL SELECT 2", WorkGroup=name)
    execution = wait(query_id)
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert "OutputLocation" not in execution["ResultConfiguration"]
    assert execution["ManagedQueryResultsConfiguration"]["Enabled"] is True
    assert sorted(rows(query_id)) == [["1"], ["2"]]
    # Nothing was written to any bucket for it.
    s3 = boto3.client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])]
        assert not any(query_id in key for key in keys)


def test_managed_results_refuse_an_output_location(lake: dict) -> None:
    athena = boto3.client("athena")
    with pytest.raises(ClientError, match="OutputLocation"):
        athena.create_work_group(Name=f"managed-{uuid.uuid4().hex[:8]}", Configuration={
            "ManagedQueryResultsConfiguration": {"Enabled": True},
            "ResultConfiguration": {"OutputLocation": RESULTS}})


def test_result_encryption_is_echoed(lake: dict) -> None:
    encryption = {"EncryptionOption": "SSE_KMS", "KmsKey": "arn:aws:kms:us-east-1:123456789012:key/k1"}
    query_id = start("SELECT 1", ResultConfiguration={"OutputLocation": RESULTS,
                                                       "EncryptionConfiguration": encryption})
    execution = wait(query_id)
    assert execution["ResultConfiguration"]["EncryptionConfiguration"] == encryption
    assert execution["ResultConfiguration"]["OutputLocation"].startswith(RESULTS)


def test_result_reuse_answers_with_the_previous_result(lake: dict) -> None:
    reuse = {"ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 5}}
    sql = f"SELECT count(*) AS n, '{uuid.uuid4().hex}' AS tag FROM fact_orders"
    config = {"QueryExecutionContext": {"Database": "athena_test_db"},
              "ResultConfiguration": {"OutputLocation": RESULTS}, "ResultReuseConfiguration": reuse}
    first = wait(start(sql, **config))
    second = wait(start(sql, **config))
    plain = wait(start(sql, **{k: v for k, v in config.items() if k != "ResultReuseConfiguration"}))
    assert first["ResultReuseConfiguration"] == reuse
    assert first["Statistics"]["ResultReuseInformation"]["ReusedPreviousResult"] is False
    assert second["Statistics"]["ResultReuseInformation"]["ReusedPreviousResult"] is True
    assert second["QueryExecutionId"] != first["QueryExecutionId"]
    assert second["ResultConfiguration"]["OutputLocation"] == first["ResultConfiguration"]["OutputLocation"]
    assert rows(second["QueryExecutionId"]) == rows(first["QueryExecutionId"])
    assert plain["Statistics"]["ResultReuseInformation"]["ReusedPreviousResult"] is False
    # A deleted result file is not reused.
    for execution in (first, plain):
        bucket, key = execution["ResultConfiguration"]["OutputLocation"][5:].split("/", 1)
        boto3.client("s3").delete_object(Bucket=bucket, Key=key)
    third = wait(start(sql, **config))
    assert third["Statistics"]["ResultReuseInformation"]["ReusedPreviousResult"] is False


# ------------------------------------------------------- prepared statements


def test_prepared_statement_api_lifecycle(lake: dict) -> None:
    athena = boto3.client("athena")
    name = f"ps_{uuid.uuid4().hex[:8]}"
    athena.create_prepared_statement(StatementName=name, WorkGroup="primary", QueryStatement="SELECT 1")
    with pytest.raises(ClientError, match="already exists"):
        athena.create_prepared_statement(StatementName=name, WorkGroup="primary", QueryStatement="SELECT 2")
    athena.update_prepared_statement(StatementName=name, WorkGroup="primary", QueryStatement="SELECT ?")
    got = athena.get_prepared_statement(StatementName=name, WorkGroup="primary")["PreparedStatement"]
    assert (got["StatementName"], got["QueryStatement"]) == (name, "SELECT ?")
    assert got["WorkGroupName"] == "primary"
    listed = athena.list_prepared_statements(WorkGroup="primary")["PreparedStatements"]
    assert name in [s["StatementName"] for s in listed]
    athena.delete_prepared_statement(StatementName=name, WorkGroup="primary")
    for call in (lambda: athena.get_prepared_statement(StatementName=name, WorkGroup="primary"),
                 lambda: athena.delete_prepared_statement(StatementName=name, WorkGroup="primary"),
                 lambda: athena.update_prepared_statement(StatementName=name, WorkGroup="primary",
                                                          QueryStatement="SELECT 3")):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_execute_prepared_statement_with_using_and_parameters(lake: dict) -> None:
    athena = boto3.client("athena")
    name = f"ps_{uuid.uuid4().hex[:8]}"
    athena.create_prepared_statement(
        StatementName=name, WorkGroup="primary",
        QueryStatement="SELECT customer_id FROM dim_customers WHERE country = ? AND customer_id > ? "
                       "ORDER BY customer_id")
    expected = sorted(i for i in range(1, 11) if ["France", "USA", "Spain"][i % 3] == "USA" and i > 2)
    using = query_rows(f"EXECUTE \"{name}\" USING 'USA', 2", "athena_test_db")
    assert [int(r[0]) for r in using] == expected
    query_id = start(f"EXECUTE {name}", QueryExecutionContext={"Database": "athena_test_db"},
                     ResultConfiguration={"OutputLocation": RESULTS}, ExecutionParameters=["'USA'", "2"])
    assert [int(r[0]) for r in rows(wait(query_id)["QueryExecutionId"])] == expected
    missing = run_query("EXECUTE no_such_statement USING 1", database="athena_test_db")
    assert missing["Status"]["State"] == "FAILED"
    assert missing["Status"]["StateChangeReason"].startswith("NOT_FOUND")


def test_prepare_and_deallocate_in_sql(lake: dict) -> None:
    athena = boto3.client("athena")
    name = f"ps_{uuid.uuid4().hex[:8]}"
    assert run_query(f"PREPARE {name} FROM SELECT ? + 1 AS n")["Status"]["State"] == "SUCCEEDED"
    assert athena.get_prepared_statement(StatementName=name, WorkGroup="primary")[
        "PreparedStatement"]["QueryStatement"] == "SELECT ? + 1 AS n"
    assert query_rows(f"EXECUTE {name} USING 41", "athena_test_db") == [["42"]]
    assert run_query(f"DEALLOCATE PREPARE {name}")["Status"]["State"] == "SUCCEEDED"
    with pytest.raises(ClientError):
        athena.get_prepared_statement(StatementName=name, WorkGroup="primary")


# ------------------------------------------------------------ Glue catalog


def test_glue_update_table_skip_archive_keeps_no_version(lake: dict) -> None:
    glue = boto3.client("glue")
    database = fresh_database()
    table = {"Name": "t", "StorageDescriptor": {"Columns": [{"Name": "a", "Type": "int"}]}}
    glue.create_table(DatabaseName=database, TableInput=table)

    def versions() -> list[str]:
        return [v["VersionId"] for v in glue.get_table_versions(DatabaseName=database, TableName="t")[
            "TableVersions"]]

    table["StorageDescriptor"]["Columns"] = [{"Name": "b", "Type": "string"}]
    glue.update_table(DatabaseName=database, TableInput=table, SkipArchive=True)
    assert len(versions()) == 1
    got = glue.get_table(DatabaseName=database, Name="t")["Table"]
    assert got["StorageDescriptor"]["Columns"] == [{"Name": "b", "Type": "string"}]
    table["StorageDescriptor"]["Columns"] = [{"Name": "c", "Type": "bigint"}]
    glue.update_table(DatabaseName=database, TableInput=table)  # SkipArchive defaults to false
    assert len(versions()) == 2
    with pytest.raises(ClientError) as err:
        glue.update_table(DatabaseName=database, TableInput={"Name": "missing"}, SkipArchive=True)
    assert err.value.response["Error"]["Code"] == "EntityNotFoundException"


# ------------------------------------------------------- output formats


@pytest.mark.parametrize(("fmt", "compression"), [
    ("ORC", None), ("AVRO", None), ("AVRO", "SNAPPY"), ("JSON", None), ("TEXTFILE", None),
    ("TEXTFILE", "NONE"), ("PARQUET", None)])
def test_ctas_formats_write_tables_athena_reads_back(lake: dict, fmt: str, compression: str | None) -> None:
    database = fresh_database()
    extra = f", write_compression = '{compression}'" if compression else ""
    execution = run_query(
        f"CREATE TABLE {database}.t WITH (format = '{fmt}'{extra}, "
        f"external_location = 's3://{BUCKET}/fidelity/{database}/t/') AS "
        "SELECT customer_id, customer_name, credit_limit, active, DATE '2024-02-29' AS day, "
        "TIMESTAMP '2024-01-31 12:00:05.123' AS at FROM athena_test_db.dim_customers", database=database)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get("StateChangeReason")
    table = boto3.client("glue").get_table(DatabaseName=database, Name="t")["Table"]
    serde = table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].lower()
    assert {"ORC": "orc", "AVRO": "avro", "JSON": "json", "TEXTFILE": "lazysimple",
            "PARQUET": "parquet"}[fmt] in serde
    got = query_rows("SELECT customer_id, customer_name, credit_limit, active, day, at FROM t "
                     "ORDER BY customer_id", database)
    expected = query_rows("SELECT customer_id, customer_name, credit_limit, active, DATE '2024-02-29', "
                          "TIMESTAMP '2024-01-31 12:00:05.123' FROM dim_customers ORDER BY customer_id",
                          "athena_test_db")
    assert got == expected


@pytest.mark.parametrize("fmt", ["ORC", "AVRO", "JSON", "TEXTFILE"])
def test_unload_formats_write_real_files(lake: dict, fmt: str) -> None:
    target = f"s3://{BUCKET}/fidelity/unload-{uuid.uuid4().hex[:8]}/"
    execution = run_query(f"UNLOAD (SELECT customer_id, country FROM dim_customers) TO '{target}' "
                          f"WITH (format = '{fmt}', partitioned_by = ARRAY['country'])")
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"].get("StateChangeReason")
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=target.split("/", 3)[3])["Contents"]]
    assert sorted({k.split("/")[-2] for k in keys}) == ["country=France", "country=Spain", "country=USA"]
    body = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    if fmt in ("JSON", "TEXTFILE"):
        assert keys[0].endswith(".gz")  # Athena's default for text: GZIP
        lines = gzip.decompress(body).decode().splitlines()
        assert lines and all(line.startswith("{\"customer_id\":") if fmt == "JSON" else line.isdigit()
                             for line in lines)
    else:
        assert body.startswith(b"ORC" if fmt == "ORC" else b"Obj\x01")


def test_unknown_output_format_is_not_supported(lake: dict) -> None:
    execution = run_query(f"UNLOAD (SELECT 1 AS x) TO 's3://{BUCKET}/fidelity/x-{uuid.uuid4().hex[:6]}/' "
                          "WITH (format = 'XML')")
    assert execution["Status"]["StateChangeReason"].startswith("NOT_SUPPORTED")


# ------------------------------------------------------- partition projection


def test_projected_table_reads_partitions_not_in_glue(lake: dict) -> None:
    database = fresh_database()
    location = f"s3://{BUCKET}/fidelity/{database}/p/"
    for year in ("2023", "2024", "2025"):
        put(f"{location}year={year}/data.csv", f"{year}1\n{year}2\n".encode())
    boto3.client("glue").create_table(DatabaseName=database, TableInput={
        "Name": "p", "PartitionKeys": [{"Name": "year", "Type": "string"}],
        "Parameters": {"classification": "csv", "projection.enabled": "true",
                       "projection.year.type": "integer", "projection.year.range": "2023,2024"},
        "StorageDescriptor": {
            "Columns": [{"Name": "n", "Type": "bigint"}], "Location": location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"}}})
    assert query_rows("SELECT year, count(*), sum(n) FROM p GROUP BY year ORDER BY year", database) == [
        ["2023", "2", str(20231 + 20232)], ["2024", "2", str(20241 + 20242)]]


def test_default_database_exists_for_queries(lake: dict) -> None:
    assert query_rows("SELECT 1 AS one", "default") == [["1"]]
    names = [d["Name"] for d in boto3.client("glue").get_databases()["DatabaseList"]]
    assert "default" in names


# ------------------------------------------------------------- bucketing


def test_bucketed_table_reads_only_the_bucket_of_the_value(lake: dict) -> None:
    database = fresh_database()
    location = text_table(database, "b", [("c0", "int")], delimiter=",")
    table = boto3.client("glue").get_table(DatabaseName=database, Name="b")["Table"]
    storage = {**table["StorageDescriptor"], "BucketColumns": ["c0"], "NumberOfBuckets": 4}
    boto3.client("glue").update_table(DatabaseName=database, TableInput={
        "Name": "b", "StorageDescriptor": storage, "Parameters": table["Parameters"]})
    for bucket in range(4):
        values = [v for v in range(40) if v % 4 == bucket]
        put(f"{location}part_bucket-{bucket:05d}.csv", "".join(f"{v}\n" for v in values).encode())
    everything = run_query("SELECT count(*) FROM b", database=database)
    one = run_query("SELECT c0 FROM b WHERE c0 = 6", database=database)
    assert rows(one["QueryExecutionId"]) == [["6"]]
    assert one["Statistics"]["DataScannedInBytes"] * 3 < everything["Statistics"]["DataScannedInBytes"]


@pytest.mark.parametrize("fmt", ["ORC", "JSON", "TEXTFILE"])
def test_insert_into_writes_the_tables_own_format(lake: dict, fmt: str) -> None:
    database = fresh_database()
    created = run_query(f"CREATE TABLE {database}.t WITH (format = '{fmt}', external_location = "
                        f"'s3://{BUCKET}/fidelity/{database}/t/') AS SELECT 1 AS n, 'a' AS s",
                        database=database)
    assert created["Status"]["State"] == "SUCCEEDED", created["Status"].get("StateChangeReason")
    inserted = run_query("INSERT INTO t SELECT 2, 'b,c'", database=database)
    assert inserted["Status"]["State"] == "SUCCEEDED", inserted["Status"].get("StateChangeReason")
    assert query_rows("SELECT n, s FROM t ORDER BY n", database) == [["1", "a"], ["2", "b,c"]]


def test_insert_into_a_text_table_keeps_its_delimiter(lake: dict) -> None:
    database = fresh_database()
    location = text_table(database, "csv", [("n", "int"), ("s", "string")], delimiter="|")
    put(location + "part-0.csv", b"1|x\n")
    assert run_query("INSERT INTO csv VALUES (2, 'y')", database=database)["Status"]["State"] == "SUCCEEDED"
    assert query_rows("SELECT n, s FROM csv ORDER BY n", database) == [["1", "x"], ["2", "y"]]
