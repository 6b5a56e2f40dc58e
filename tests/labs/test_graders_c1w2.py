"""The week-2 lab's graders: each passes the solution, says "Not done yet" for the placeholder,
and fails realistic wrong answers with a message that points at the mistake.

Needs the real MariaDB (a scratch SF1 database, see conftest.py). The Athena exercises are
graded on DataFrames, so their wrong answers are built here from MySQL: no cloud needed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from utils.classicmodels.truth import ground_truth
from utils.teaching import graders_c1w2 as g
from utils.teaching.dashboard import ALL
from utils.teaching.lab_c1w2 import run_sql as query

POSTAL_JOIN_SQL = """
SELECT SUM(od.quantityOrdered * od.priceEach)
FROM orderdetails AS od
JOIN orders AS o ON o.orderNumber = od.orderNumber
JOIN customers AS c ON c.customerNumber = o.customerNumber
{join} (SELECT DISTINCT postalCode, city, state, country FROM customers) AS l ON l.postalCode = c.postalCode
"""
TRUE_SQL = "SELECT SUM(quantityOrdered * priceEach) FROM orderdetails"
GOOD_EXPLANATION = ["B", "D"]

DIM_LOCATIONS_SOLUTION = """
SELECT DISTINCT
       MD5(CONCAT_WS('|', COALESCE(postalCode, ''), city, COALESCE(state, ''), country)) AS locationKey,
       postalCode, city, state, country
FROM (SELECT NULLIF(TRIM(postalCode), '') AS postalCode, TRIM(city) AS city, state, TRIM(country) AS country
      FROM customers) AS cleaned
"""

# The lab's own recipe (solutions/C1W2_1_source_system.ipynb), the base of the wrong answers.
NOTEBOOK_SOLUTION = """
WITH cleaned AS (
    SELECT NULLIF(TRIM(postalCode), '') AS postalCode, NULLIF(TRIM(city), '') AS city,
           NULLIF(TRIM(state), '') AS state, NULLIF(TRIM(country), '') AS country
    FROM customers
)
SELECT DISTINCT
       MD5(CONVERT(CONCAT_WS('|', COALESCE(country, '~'), COALESCE(state, '~'),
                                  COALESCE(city, '~'), COALESCE(postalCode, '~'))
                   USING utf8mb4)) AS locationKey,
       postalCode, city, state, country
FROM cleaned
"""

REVENUE_BY_COUNTRY_SQL = """
SELECT TRIM(c.country) AS country, SUM(od.quantityOrdered * od.priceEach) AS revenue
FROM orderdetails AS od JOIN orders AS o ON o.orderNumber = od.orderNumber
JOIN customers AS c ON c.customerNumber = o.customerNumber
GROUP BY TRIM(c.country) ORDER BY revenue {order}
"""

TOP_PRODUCTS_SQL = """
SELECT p.productName AS productname, SUM(od.{measure}) AS total_sales
FROM orderdetails AS od JOIN products AS p ON p.productCode = od.productCode
GROUP BY p.productName ORDER BY total_sales {order} LIMIT {n}
"""


def scalar(conn: Any, sql: str) -> Decimal:
    return Decimal(query(conn, sql).iloc[0, 0])


def assert_fails(result: Any, *fragments: str) -> None:
    assert not result.passed, result.summary()
    assert not result.not_done, result.summary()
    for fragment in fragments:
        assert fragment.lower() in result.feedback.lower(), f"{fragment!r} not in: {result.feedback}"


def assert_not_done(result: Any, name: str) -> None:
    assert not result.passed and result.score == 0
    assert result.feedback.startswith("Not done yet"), result.feedback
    assert name in result.feedback


# ------------------------------------------------------------------ exercise 1


@pytest.fixture(scope="module")
def totals(conn: Any) -> dict[str, Decimal]:
    return {"postal": scalar(conn, POSTAL_JOIN_SQL.format(join="JOIN")),
            "left": scalar(conn, POSTAL_JOIN_SQL.format(join="LEFT JOIN")),
            "true": scalar(conn, TRUE_SQL)}


def test_ex1_solution_passes(conn: Any, totals: dict[str, Decimal]) -> None:
    result = g.grade_postal_code_join(totals["postal"], totals["true"], GOOD_EXPLANATION, conn=conn)
    assert result.passed and result.score == 3, result.summary()


def test_ex1_accepts_floats_and_one_cell_frames(conn: Any, totals: dict[str, Decimal]) -> None:
    frame = pd.DataFrame({"revenue": [totals["postal"]]})
    result = g.grade_postal_code_join(frame, float(totals["true"]), GOOD_EXPLANATION, conn=conn)
    assert result.passed, result.summary()


def test_ex1_placeholder_is_not_done(conn: Any, totals: dict[str, Decimal]) -> None:
    assert_not_done(g.grade_postal_code_join(None, None, None, conn=conn), "postal_join_total")
    result = g.grade_postal_code_join(totals["postal"], totals["true"], None, conn=conn)
    assert_not_done(result, "explanation")


def test_ex1_left_join_is_pointed_out(conn: Any, totals: dict[str, Decimal]) -> None:
    result = g.grade_postal_code_join(totals["left"], totals["true"], GOOD_EXPLANATION, conn=conn)
    assert_fails(result, "NULL", "inner JOIN")
    assert result.score == 2


def test_ex1_swapped_totals(conn: Any, totals: dict[str, Decimal]) -> None:
    result = g.grade_postal_code_join(totals["true"], totals["postal"], GOOD_EXPLANATION, conn=conn)
    assert_fails(result, "swapped")


def test_ex1_join_without_distinct(conn: Any) -> None:
    fanned = scalar(conn, POSTAL_JOIN_SQL.format(join="JOIN").replace(
        "(SELECT DISTINCT postalCode, city, state, country FROM customers)", "customers"))
    result = g.grade_postal_code_join(fanned, scalar(conn, TRUE_SQL), GOOD_EXPLANATION, conn=conn)
    assert_fails(result, "every customer row", "DISTINCT")


def test_ex1_the_true_statements_are_the_two_causes(conn: Any) -> None:
    assert g.explanation_causes(conn) == {"B", "D"}
    assert {letter for letter, (_, why) in g.EXPLANATION_CHOICES.items() if " is true" in why} == {"B", "D"}


@pytest.mark.parametrize("answer", [["B", "D"], ("d", "b"), {"B", "D"}, "B, D", "b and d", "BD",
                                    [" B", "D "]])
def test_ex1_choice_forms_are_accepted(conn: Any, totals: dict[str, Decimal], answer: Any) -> None:
    result = g.grade_postal_code_join(totals["postal"], totals["true"], answer, conn=conn)
    assert result.passed and result.score == 3, result.summary()


def test_ex1_only_one_cause_misses_the_other(conn: Any, totals: dict[str, Decimal]) -> None:
    result = g.grade_postal_code_join(totals["postal"], totals["true"], ["B"], conn=conn)
    assert_fails(result, "You left out D", "NULL = NULL")
    assert result.score == 2
    result = g.grade_postal_code_join(totals["postal"], totals["true"], ["D"], conn=conn)
    assert_fails(result, "You left out B", "not unique")
    assert "A is false" not in result.feedback


def test_ex1_tempting_wrong_choices_are_explained(conn: Any, totals: dict[str, Decimal]) -> None:
    # The reviewer's "prices were rounded and null duplicates happen here", as choices.
    result = g.grade_postal_code_join(totals["postal"], totals["true"], ["A", "E"], conn=conn)
    assert_fails(result, "A is false", "exact DECIMAL", "E is false", "lost, not multiplied",
                 "You left out B", "You left out D")
    assert result.score == 2
    result = g.grade_postal_code_join(totals["postal"], totals["true"], ["B", "C", "D", "F"], conn=conn)
    assert_fails(result, "C is false", "F is false", "time zones")
    assert "left out" not in result.feedback


def test_ex1_malformed_choices(conn: Any, totals: dict[str, Decimal]) -> None:
    def grade(answer: Any) -> Any:
        return g.grade_postal_code_join(totals["postal"], totals["true"], answer, conn=conn)

    sentence = "Some customers have no zip code, so their orders are dropped."
    assert_fails(grade(sentence), "not a sentence", "list of letters")
    assert_fails(grade(["B", "Z"]), "Z is not an option")
    assert_fails(grade([]), "is empty")
    assert_fails(grade([2, 4]), "single letters")
    assert_fails(grade(2), "list of letters")


def test_ex1_lab_lists_every_choice(conn: Any) -> None:
    import nbformat

    from tests.labs.test_generated_labs import ROOT

    for folder in ("solutions", "labs"):
        nb = nbformat.read(ROOT / folder / "C1W2_1_source_system.ipynb", as_version=4)
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        for letter, (text, _) in g.EXPLANATION_CHOICES.items():
            assert f"- **{letter}.** {text}" in markdown, (folder, letter)
    lab = nbformat.read(ROOT / "labs" / "C1W2_1_source_system.ipynb", as_version=4)
    assert any("explanation = None  # YOUR CODE HERE" in c.source for c in lab.cells)


def test_ex1_wrong_true_total(conn: Any, totals: dict[str, Decimal]) -> None:
    shipped_only = scalar(conn, "SELECT SUM(od.quantityOrdered * od.priceEach) FROM orderdetails od "
                                "JOIN orders o ON o.orderNumber = od.orderNumber WHERE o.status = 'Shipped'")
    result = g.grade_postal_code_join(totals["postal"], shipped_only, GOOD_EXPLANATION, conn=conn)
    assert_fails(result, "every row of orderdetails")


def test_ex1_text_instead_of_number(conn: Any, totals: dict[str, Decimal]) -> None:
    result = g.grade_postal_code_join("12,000", totals["true"], GOOD_EXPLANATION, conn=conn)
    assert_fails(result, "should be a number")


# ------------------------------------------------------------------ exercise 2


def test_ex2_solution_passes(conn: Any) -> None:
    result = g.grade_dim_locations(DIM_LOCATIONS_SOLUTION, conn=conn)
    assert result.passed, result.summary()


def test_ex2_one_row_per_customer_is_not_a_location_dimension(conn: Any) -> None:
    # Issue #15: `customerNumber AS locationKey` passed (one row per customer, not per location).
    customers, locations = query(conn, """
        SELECT COUNT(*), COUNT(DISTINCT CONCAT_WS('|', COALESCE(TRIM(postalCode), '~'), TRIM(city),
                                                  COALESCE(state, '~'), TRIM(country)))
        FROM customers""").iloc[0]
    assert customers > locations
    for sql in ("SELECT customerNumber AS locationKey, postalCode, city, state, country FROM customers",
                "SELECT customerNumber AS locationKey, customerNumber, "
                "NULLIF(TRIM(postalCode), '') AS postalCode, TRIM(city) AS city, state, "
                "TRIM(country) AS country FROM customers"):
        result = g.grade_dim_locations(sql, conn=conn)
        assert_fails(result, f"{customers} rows for {locations} different locations", "one per customer",
                     "one row per location")


def test_ex2_equivalent_right_answers_pass(conn: Any) -> None:
    variants = {
        "notebook": NOTEBOOK_SOLUTION,
        "schema-qualified": NOTEBOOK_SOLUTION.replace("FROM customers", f"FROM `{_db(conn)}`.`customers`"),
        "sha2, other order, group by": """
            SELECT SHA2(CONCAT_WS('#', COALESCE(pc, '-'), COALESCE(ci, '-'), COALESCE(st, '-'),
                                  COALESCE(co, '-')), 256) AS locationKey,
                   pc AS postalCode, ci AS city, st AS state, co AS country
            FROM (SELECT NULLIF(TRIM(postalCode), '') AS pc, NULLIF(TRIM(city), '') AS ci,
                         NULLIF(TRIM(state), '') AS st, NULLIF(TRIM(country), '') AS co FROM customers) AS x
            GROUP BY pc, ci, st, co""",
        "dense rank": """
            SELECT DENSE_RANK() OVER (ORDER BY country, state, city, postalCode) AS locationKey,
                   postalCode, city, state, country
            FROM (SELECT DISTINCT NULLIF(TRIM(postalCode), '') AS postalCode, TRIM(city) AS city,
                         state, TRIM(country) AS country FROM customers) AS l""",
    }
    for name, sql in variants.items():
        result = g.grade_dim_locations(sql, conn=conn)
        assert result.passed, (name, result.summary())
    assert "Not checked" not in g.grade_dim_locations(NOTEBOOK_SOLUTION, conn=conn).feedback


def _db(conn: Any) -> str:
    return str(query(conn, "SELECT DATABASE()").iloc[0, 0])


def test_ex2_schema_qualified_customers_still_get_the_null_check(conn: Any) -> None:
    # Issue #15: `... FROM classicmodels.customers` with no NULL handling skipped the NULL-collision
    # probe and the success message still claimed it.
    body = ("SELECT DISTINCT MD5(CONCAT_WS('|', country, state, city, postalCode)) AS locationKey, "
            "postalCode, city, state, country FROM (SELECT NULLIF(TRIM(postalCode), '') AS postalCode, "
            "TRIM(city) AS city, state, TRIM(country) AS country FROM {table}) AS c")
    for table in (f"{_db(conn)}.customers", f"`{_db(conn)}`.`customers`", f"{_db(conn)} . customers"):
        result = g.grade_dim_locations(body.format(table=table), conn=conn)
        assert_fails(result, "same locationKey", "skips NULL", "COALESCE")
    assert g._unqualified_customers("SELECT * FROM classicmodels.customers AS c") == (
        "SELECT * FROM customers AS c")


def test_ex2_success_never_claims_a_skipped_check(conn: Any) -> None:
    # The probe customers are filtered out by this (right) answer: nothing can be checked on them.
    sql = NOTEBOOK_SOLUTION.replace("FROM customers", "FROM customers WHERE customerNumber < 1000000000")
    result = g.grade_dim_locations(sql, conn=conn)
    assert result.passed, result.summary()
    assert "Not checked" in result.feedback and "NULL" in result.feedback
    assert "also tells apart" not in result.feedback


def test_ex2_concat_without_a_separator_collides(conn: Any) -> None:
    # Issue #15: CONCAT without a separator passed when NULLs had markers.
    sql = NOTEBOOK_SOLUTION.replace("CONCAT_WS('|', ", "CONCAT(")
    assert sql != NOTEBOOK_SOLUTION
    result = g.grade_dim_locations(sql, conn=conn)
    assert_fails(result, "same locationKey", "without a separator", "CONCAT_WS")


def test_ex2_untrimmed_values_are_named(conn: Any) -> None:
    # Issue #15: without TRIM the grader blamed DISTINCT; the cause is the source's stray spaces.
    sql = ("SELECT DISTINCT MD5(CONVERT(CONCAT_WS('|', COALESCE(country, '~'), COALESCE(state, '~'), "
           "COALESCE(city, '~'), COALESCE(postalCode, '~')) USING utf8mb4)) AS locationKey, "
           "postalCode, city, state, country FROM customers")
    result = g.grade_dim_locations(sql, conn=conn)
    assert_fails(result, "stray spaces", "'Norway  '", "' 530-0003'", "TRIM")
    assert "DISTINCT)" not in result.feedback and "listed more than once" not in result.feedback


def test_ex2_placeholder_is_not_done(conn: Any) -> None:
    assert_not_done(g.grade_dim_locations(None, conn=conn), "dim_locations_sql")


def test_ex2_postal_code_as_key_has_null_keys(conn: Any) -> None:
    sql = "SELECT DISTINCT postalCode AS locationKey, postalCode, city, state, country FROM customers"
    assert_fails(g.grade_dim_locations(sql, conn=conn), "NULL locationKey")


def test_ex2_postal_code_as_key_is_not_unique(conn: Any) -> None:
    sql = ("SELECT DISTINCT postalCode AS locationKey, postalCode, city, state, country FROM customers "
           "WHERE postalCode IS NOT NULL")
    assert_fails(g.grade_dim_locations(sql, conn=conn), "shared by different locations", "postal code alone")


def test_ex2_forgotten_distinct(conn: Any) -> None:
    sql = DIM_LOCATIONS_SOLUTION.replace("DISTINCT", "")
    assert_fails(g.grade_dim_locations(sql, conn=conn), "listed more than once", "DISTINCT")


def test_ex2_dropping_null_postal_codes_loses_customers(conn: Any) -> None:
    sql = DIM_LOCATIONS_SOLUTION + " WHERE postalCode IS NOT NULL"
    assert_fails(g.grade_dim_locations(sql, conn=conn), "have no row", "NULL postal code")


def test_ex2_key_ignoring_the_country_collides(conn: Any) -> None:
    sql = DIM_LOCATIONS_SOLUTION.replace("MD5(CONCAT_WS('|', COALESCE(postalCode, ''), city, "
                                         "COALESCE(state, ''), country))",
                                         "MD5(COALESCE(postalCode, ''))")
    assert_fails(g.grade_dim_locations(sql, conn=conn), "shared by different locations")


def test_ex2_concat_ws_without_coalesce_collides_on_nulls(conn: Any) -> None:
    no_coalesce = DIM_LOCATIONS_SOLUTION.replace(
        "MD5(CONCAT_WS('|', COALESCE(postalCode, ''), city, COALESCE(state, ''), country))",
        "MD5(CONCAT_WS('|', country, state, city, postalCode))")
    assert no_coalesce != DIM_LOCATIONS_SOLUTION
    assert_fails(g.grade_dim_locations(no_coalesce, conn=conn), "same locationKey", "skips NULL", "COALESCE")
    # The same mistake inside the learner's own WITH clause (the notebook's solution shape).
    with_clause = ("WITH cleaned AS (SELECT TRIM(postalCode) AS postalCode, TRIM(city) AS city, "
                   "TRIM(state) AS state, TRIM(country) AS country FROM customers)\n"
                   "SELECT DISTINCT MD5(CONCAT_WS('|', country, state, city, postalCode)) AS locationKey, "
                   "postalCode, city, state, country FROM cleaned")
    assert_fails(g.grade_dim_locations(with_clause, conn=conn), "skips NULL")
    no_separator = DIM_LOCATIONS_SOLUTION.replace("CONCAT_WS('|', ", "CONCAT(")
    assert_fails(g.grade_dim_locations(no_separator, conn=conn), "same locationKey", "separator")


def test_ex2_the_notebook_solution_passes(conn: Any) -> None:
    import nbformat

    from tests.labs.test_generated_labs import ROOT

    nb = nbformat.read(ROOT / "solutions" / "C1W2_1_source_system.ipynb", as_version=4)
    source = next(c.source for c in nb.cells if "dim_locations_sql = " in c.source)
    sql = source.split('"""')[1]
    result = g.grade_dim_locations(sql, conn=conn)
    assert result.passed, result.summary()


def test_ex2_bad_sql_names_the_lab_helper(conn: Any) -> None:
    result = g.grade_dim_locations("SELEC city FROM customers", conn=conn)
    assert_fails(result, "lab.run_sql(conn, dim_locations_sql)")


def test_ex2_missing_columns_and_bad_sql(conn: Any) -> None:
    assert_fails(g.grade_dim_locations("SELECT DISTINCT city, country FROM customers", conn=conn),
                 "locationKey")
    assert_fails(g.grade_dim_locations("SELEC city FROM customers", conn=conn), "MySQL could not run")


# ------------------------------------------------------------------ exercise 3


@pytest.fixture(scope="module")
def truth(conn: Any) -> Any:
    return ground_truth(conn)


def test_ex3_solution_passes(conn: Any, truth: Any) -> None:
    answer = query(conn, REVENUE_BY_COUNTRY_SQL.format(order="DESC"))
    answer["revenue"] = answer["revenue"].astype(float)  # Athena returns doubles
    result = g.grade_revenue_by_country(answer, truth=truth)
    assert result.passed, result.summary()
    assert g.grade_revenue_by_country(answer, truth=truth.revenue_by_country).passed


def test_ex3_placeholder_is_not_done(truth: Any) -> None:
    assert_not_done(g.grade_revenue_by_country(None, truth=truth), "revenue_by_country")


def test_ex3_postal_code_join_loses_countries(conn: Any, truth: Any) -> None:
    answer = g.postal_code_join_by_country(conn)
    answer = answer.loc[answer["postal_join_revenue"] > 0, ["country", "postal_join_revenue"]]
    assert_fails(g.grade_revenue_by_country(answer, truth=truth), "Missing countries", "NULL")


def test_ex3_postal_code_join_inflates_countries(conn: Any, truth: Any) -> None:
    joined = g.postal_code_join_by_country(conn)
    # Keep every country (as a LEFT JOIN would) but with the postal-code join's inflated figures.
    answer = joined.assign(revenue=joined[["true_revenue", "postal_join_revenue"]].max(axis=1))
    answer = answer.sort_values("revenue", ascending=False)[["country", "revenue"]]
    assert_fails(g.grade_revenue_by_country(answer, truth=truth), "too high", "postal code")


def test_ex3_limit_names_the_cut_rows_not_a_join(conn: Any, truth: Any) -> None:
    # Issue #15: LIMIT 10 was blamed on a join.
    answer = query(conn, REVENUE_BY_COUNTRY_SQL.format(order="DESC") + " LIMIT 10")
    answer["revenue"] = answer["revenue"].astype(float)
    result = g.grade_revenue_by_country(answer, truth=truth)
    assert_fails(result, "only 10 rows", "remove the LIMIT 10")
    assert "join" not in result.feedback.lower()


def test_ex3_ascending_order(conn: Any, truth: Any) -> None:
    answer = query(conn, REVENUE_BY_COUNTRY_SQL.format(order="ASC"))
    assert_fails(g.grade_revenue_by_country(answer, truth=truth), "largest first")


def test_ex3_summing_prices_only(conn: Any, truth: Any) -> None:
    answer = query(conn, REVENUE_BY_COUNTRY_SQL.format(order="DESC").replace(
        "od.quantityOrdered * od.priceEach", "od.priceEach"))
    assert_fails(g.grade_revenue_by_country(answer, truth=truth), "quantityOrdered * priceEach")


def test_ex3_missing_group_by(conn: Any, truth: Any) -> None:
    answer = query(conn, """SELECT TRIM(c.country) AS country, od.quantityOrdered * od.priceEach AS revenue
                            FROM orderdetails od JOIN orders o ON o.orderNumber = od.orderNumber
                            JOIN customers c ON c.customerNumber = o.customerNumber""")
    assert_fails(g.grade_revenue_by_country(answer, truth=truth), "more than once", "GROUP BY")


def with_count_first(conn: Any, answer: pd.DataFrame) -> pd.DataFrame:
    lines = query(conn, """SELECT TRIM(c.country) AS country, COUNT(*) AS order_lines
                           FROM orderdetails od JOIN orders o ON o.orderNumber = od.orderNumber
                           JOIN customers c ON c.customerNumber = o.customerNumber
                           GROUP BY TRIM(c.country)""")
    merged = answer.merge(lines, on="country", how="left")
    return merged[["order_lines", "country", *[c for c in answer.columns if c != "country"]]]


def test_ex3_extra_count_column_still_passes(conn: Any, truth: Any) -> None:
    answer = query(conn, REVENUE_BY_COUNTRY_SQL.format(order="DESC"))
    answer["revenue"] = answer["revenue"].astype(float)
    extended = with_count_first(conn, answer)
    assert list(extended.columns)[0] == "order_lines"
    result = g.grade_revenue_by_country(extended, truth=truth)
    assert result.passed, result.summary()
    # An extra text column (a code) before the country is not read as the country either.
    coded = extended.assign(code=extended["country"].str[:3].str.upper())[["code", "order_lines", "country",
                                                                          "revenue"]]
    result = g.grade_revenue_by_country(coded, truth=truth)
    assert result.passed, result.summary()


def test_ex3_extra_columns_with_wrong_figures(conn: Any, truth: Any) -> None:
    ascending = with_count_first(conn, query(conn, REVENUE_BY_COUNTRY_SQL.format(order="ASC")))
    assert_fails(g.grade_revenue_by_country(ascending, truth=truth), "largest first")
    joined = g.postal_code_join_by_country(conn)
    inflated = joined.assign(revenue=joined[["true_revenue", "postal_join_revenue"]].max(axis=1))
    inflated = inflated.sort_values("revenue", ascending=False)[["country", "revenue"]]
    assert_fails(g.grade_revenue_by_country(with_count_first(conn, inflated), truth=truth),
                 "too high", "postal code")
    prices = query(conn, REVENUE_BY_COUNTRY_SQL.format(order="DESC").replace(
        "od.quantityOrdered * od.priceEach", "od.priceEach"))
    result = g.grade_revenue_by_country(with_count_first(conn, prices), truth=truth)
    assert_fails(result, "keep two columns", "order_lines")
    assert "wrong for" not in result.feedback


# ------------------------------------------------------------------ exercise 4


def top(conn: Any, measure: str = "quantityOrdered * od.priceEach", order: str = "DESC", n: int = 5
        ) -> pd.DataFrame:
    return query(conn, TOP_PRODUCTS_SQL.format(measure=measure, order=order, n=n))


def test_ex4_solution_passes(conn: Any) -> None:
    result = g.grade_top_products(top(conn), conn=conn)
    assert result.passed, result.summary()


def test_ex4_placeholder_is_not_done(conn: Any) -> None:
    assert_not_done(g.grade_top_products(None, conn=conn), "top_products")


def test_ex4_ascending_order(conn: Any) -> None:
    assert_fails(g.grade_top_products(top(conn, order="ASC"), conn=conn), "LEAST", "DESC")


def test_ex4_ranked_by_quantity(conn: Any) -> None:
    assert_fails(g.grade_top_products(top(conn, measure="quantityOrdered"), conn=conn), "quantity")


def test_ex4_wrong_limit(conn: Any) -> None:
    assert_fails(g.grade_top_products(top(conn, n=10), conn=conn), "LIMIT 5")


def test_ex4_summing_prices_names_price_without_quantity(conn: Any) -> None:
    # Issue #15: SUM(priceEach) was told "not in order".
    result = g.grade_top_products(top(conn, measure="priceEach"), conn=conn)
    assert_fails(result, "price without the quantity", "quantityOrdered * priceEach")
    assert "not in order" not in result.feedback


def test_ex4_msrp_names_msrp_instead_of_the_price_paid(conn: Any) -> None:
    # Issue #15: SUM(msrp * quantityOrdered) was blamed on a duplicating join.
    answer = query(conn, """
        SELECT p.productName AS productname, SUM(p.MSRP * od.quantityOrdered) AS total_sales
        FROM orderdetails AS od JOIN products AS p ON p.productCode = od.productCode
        GROUP BY p.productName ORDER BY total_sales DESC LIMIT 5""")
    result = g.grade_top_products(answer, conn=conn)
    assert_fails(result, "MSRP", "instead of the price paid")
    assert "join" not in result.feedback.lower()


def test_ex4_right_products_with_quantities(conn: Any) -> None:
    answer = top(conn)
    quantities = g.product_totals(conn).set_index("product_name")["quantity"]
    answer["total_sales"] = answer["productname"].map(quantities)
    assert_fails(g.grade_top_products(answer, conn=conn), "quantities, not sales")


def with_code_and_count(conn: Any, answer: pd.DataFrame) -> pd.DataFrame:
    extra = query(conn, """SELECT p.productName AS productname, p.productCode AS productcode,
                                  COUNT(*) AS order_lines
                           FROM orderdetails od JOIN products p ON p.productCode = od.productCode
                           GROUP BY p.productCode, p.productName""")
    merged = answer.merge(extra, on="productname", how="left")
    return merged[["productcode", "order_lines", "productname", "total_sales"]]


def test_ex4_extra_code_and_count_columns_still_pass(conn: Any) -> None:
    answer = with_code_and_count(conn, top(conn))
    result = g.grade_top_products(answer, conn=conn)
    assert result.passed, result.summary()


def test_ex4_extra_columns_with_wrong_answers(conn: Any) -> None:
    assert_fails(g.grade_top_products(with_code_and_count(conn, top(conn, order="ASC")), conn=conn),
                 "LEAST", "DESC")
    assert_fails(g.grade_top_products(with_code_and_count(conn, top(conn, measure="quantityOrdered")),
                                      conn=conn), "ranked products by quantity")
    inflated = top(conn)
    inflated["total_sales"] = inflated["total_sales"] * 2
    result = g.grade_top_products(with_code_and_count(conn, inflated), conn=conn)
    assert_fails(result, "keep two columns", "order_lines")


def test_ex4_codes_instead_of_names(conn: Any) -> None:
    answer = with_code_and_count(conn, top(conn))[["productcode", "total_sales"]]
    assert_fails(g.grade_top_products(answer, conn=conn), "product names", "not its code")


# ------------------------------------------------------------------ exercise 5


def solution_filter(sales: pd.DataFrame, selection: Any) -> pd.Series:
    return (sales["order_date"].between(selection.start, selection.end)
            & ((selection.country == ALL) | (sales["country"] == selection.country))
            & ((selection.product_line == ALL) | (sales["product_line"] == selection.product_line)))


def test_ex5_solution_passes(sales: pd.DataFrame) -> None:
    result = g.grade_selection_filter(solution_filter, sales=sales)
    assert result.passed, result.summary()


def test_ex5_returning_the_rows_fails_with_the_dashboards_error(sales: pd.DataFrame) -> None:
    # Issue #15: a filter returning a DataFrame passed; the dashboard then raised.
    result = g.grade_selection_filter(lambda s, sel: s[solution_filter(s, sel)], sales=sales)
    assert_fails(result, "returned a DataFrame", "Cannot index with multidimensional key")


def test_ex5_equivalent_masks_pass(sales: pd.DataFrame) -> None:
    # Issue #15: a right mask ending in .to_numpy() was rejected.
    for name, mask in {
        "to_numpy": lambda s, sel: solution_filter(s, sel).to_numpy(),
        "values": lambda s, sel: solution_filter(s, sel).values,
        "comparisons": lambda s, sel: ((s["order_date"] >= sel.start) & (s["order_date"] <= sel.end)
                                       & ((s["country"] == sel.country) if sel.country != ALL else True)
                                       & ((s["product_line"] == sel.product_line)
                                          if sel.product_line != ALL else True)),
    }.items():
        result = g.grade_selection_filter(mask, sales=sales)
        assert result.passed, (name, result.summary())


def test_ex5_masks_the_dashboard_cannot_use(sales: pd.DataFrame) -> None:
    assert_fails(g.grade_selection_filter(lambda s, sel: solution_filter(s, sel).reset_index(drop=True)
                                          .set_axis(range(1, len(s) + 1)), sales=sales), "sales.loc[mask]")
    assert_fails(g.grade_selection_filter(lambda s, sel: solution_filter(s, sel).astype(int), sales=sales),
                 "not True/False")


def test_ex5_placeholder_is_not_done(sales: pd.DataFrame) -> None:
    assert_not_done(g.grade_selection_filter(None, sales=sales), "in_selection")


def test_ex5_end_date_excluded(sales: pd.DataFrame) -> None:
    def off_by_one(s: pd.DataFrame, sel: Any) -> pd.Series:
        return solution_filter(s, sel) & (s["order_date"] < sel.end)

    assert_fails(g.grade_selection_filter(off_by_one, sales=sales), "end date", "<= end")


def test_ex5_all_not_handled(sales: pd.DataFrame) -> None:
    def literal_all(s: pd.DataFrame, sel: Any) -> pd.Series:
        return (s["order_date"].between(sel.start, sel.end) & (s["country"] == sel.country)
                & (s["product_line"] == sel.product_line))

    assert_fails(g.grade_selection_filter(literal_all, sales=sales), "ALL")


def test_ex5_country_ignored(sales: pd.DataFrame) -> None:
    def no_country(s: pd.DataFrame, sel: Any) -> pd.Series:
        return (s["order_date"].between(sel.start, sel.end)
                & ((sel.product_line == ALL) | (s["product_line"] == sel.product_line)))

    assert_fails(g.grade_selection_filter(no_country, sales=sales), "other countries")


def test_ex5_not_a_function_or_wrong_shape(sales: pd.DataFrame) -> None:
    assert_fails(g.grade_selection_filter("order_date >= start", sales=sales), "should be a function")
    assert_fails(g.grade_selection_filter(lambda s, sel: True, sales=sales), "boolean Series")
    assert_fails(g.grade_selection_filter(lambda s, sel: s["nope"], sales=sales), "KeyError")
