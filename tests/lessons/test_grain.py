from utils.concepts.grain import (
    DIM_LOCATIONS_BY_POSTAL_CODE,
    FACT_INNER_JOINED_ON_POSTAL_CODE,
    FACT_JOINED_ON_CUSTOMER,
    FACT_JOINED_ON_POSTAL_CODE,
    reconcile,
    revenue_by_country,
    run_sql,
    toy_tables,
)


def test_postal_code_is_not_a_key():
    locations = run_sql(DIM_LOCATIONS_BY_POSTAL_CODE, toy_tables())
    assert (locations["postalCode"] == "94217").sum() == 2


def test_correct_fact_reconciles():
    tables = toy_tables()
    fact = run_sql(FACT_JOINED_ON_CUSTOMER, tables)
    assert len(fact) == len(tables["orderdetails"])
    assert reconcile(fact, tables) == []


def test_postal_code_join_explodes_rows_and_inner_join_drops_nulls():
    tables = toy_tables()
    exploded = run_sql(FACT_JOINED_ON_POSTAL_CODE, tables)
    assert len(exploded) > len(tables["orderdetails"])
    problems = reconcile(exploded, tables)
    assert any("grain" in p for p in problems) and any("revenue" in p for p in problems)
    inner = run_sql(FACT_INNER_JOINED_ON_POSTAL_CODE, tables)
    assert 141 not in set(inner["customerNumber"])


def test_revenue_by_country_shows_inflation_and_loss():
    table = revenue_by_country(toy_tables())
    assert table.loc["USA", "joined on postal code"] > table.loc["USA", "true revenue"]
    assert table.loc["Ireland", "inner join (dashboard)"] == 0
    assert table.loc["Ireland", "true revenue"] > 0
    assert table.loc["France", "true revenue"] == table.loc["France", "joined on postal code"]
