"""A customer whose country is blank ('') reconciles: the star stores it as NULL."""

from __future__ import annotations

from pathlib import Path

from utils.classicmodels import load_dump
from utils.classicmodels.testing import scratch_database
from utils.etl import build_star_schema, source_config
from utils.services.mariadb import connect

QUIRKS_DUMP = Path(__file__).resolve().parents[1] / "data" / "classicmodels_quirks.sql"


def test_blank_country_reconciles() -> None:
    with scratch_database("etl_blank_country") as name:
        load_dump(QUIRKS_DUMP, database=name)
        conn = connect("admin", database=name, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("UPDATE customers SET country = '' WHERE customerNumber = "
                            "(SELECT customerNumber FROM orders ORDER BY orderNumber LIMIT 1)")
                assert cur.rowcount == 1
        finally:
            conn.close()
        star = build_star_schema(source_config("admin", database=name))
        countries = star["dim_locations"].column("country").to_pylist()
        assert None in countries and "" not in countries
