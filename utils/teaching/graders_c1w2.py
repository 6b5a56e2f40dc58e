"""Graders of the week-2 lab (``solutions/C1W2_*.ipynb``).

Every grader follows :mod:`utils.teaching.grading`: it takes the learner's answer,
returns a :class:`~utils.teaching.grading.GradeResult`, never raises, says "Not
done yet" for the placeholder ``None``, and for a wrong answer names the likely
mistake. Expected figures are computed at grading time from the source database
(so they hold at any scale factor and for the public sample dump), never stored.

Exercises:

1. :func:`grade_postal_code_join` - the original design's postal-code join: the
   total it reports, the true total, and why they differ (a multiple-choice answer);
2. :func:`grade_dim_locations` - a location dimension with a real key (SQL run on
   the source);
3. :func:`grade_revenue_by_country` - revenue per country from the star schema
   (an Athena result), against the MySQL ground truth;
4. :func:`grade_top_products` - the top 5 products by sales (an Athena result);
5. :func:`grade_selection_filter` - the dashboard's filter, a function
   ``(sales, selection) -> boolean Series``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
import pymysql

from utils.teaching import dashboard as dash
from utils.teaching.dashboard import ALL, Selection, prepare_sales
from utils.teaching.grading import GradeResult, grader
from utils.teaching.lab_c1w2 import LabError, connection_checked, connection_lost_error, is_connection_error

# --------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------


def _rows(conn: Any, sql: str, params: Any = None) -> list[tuple]:
    return _execute(conn, sql, params)[1]


def _execute(conn: Any, sql: str, params: Any = None) -> tuple[list[str], list[tuple]]:
    """Column names and rows of one statement; a closed or lost connection raises LabError."""
    with connection_checked(conn), conn.cursor() as cur:
        cur.execute(sql, params)
        return [d[0] for d in cur.description or ()], list(cur.fetchall())


# The tables every exercise on the source reads; when one is empty the answers are
# meaningless (a SUM over nothing is None, a top 5 has no product), so say that instead.
SOURCE_TABLES = ("customers", "orders", "orderdetails", "products")

GRADING_BLOCKED = "Could not grade this exercise (not a mistake in your answer): "


def empty_source_message(etl: bool = False, problem: str = "has no rows") -> str:
    """What to do when the source database has no rows (or cannot be read)."""
    then = ("re-run the ETL job (Step 2) and the crawler, then this notebook from the top" if etl
            else "then re-run this notebook from the top")
    return f"the source database {problem}: reseed it (`make seed SF=1` in a terminal), {then}."


EMPTY_STAR_MESSAGE = (
    "the star schema has no rows: reseed the source (`make seed SF=1` in a terminal), re-run the ETL "
    "job and the crawler (part 2), then re-run this notebook from the top."
)


def _source_problem(conn: Any, etl: bool = False) -> str | None:
    """Why the source cannot be graded against (closed connection, empty tables), or None."""
    try:
        checks = ", ".join(f"EXISTS (SELECT 1 FROM `{t}`)" for t in SOURCE_TABLES)
        present = _rows(conn, f"SELECT {checks}")[0]
    except LabError as error:
        return str(error)
    except pymysql.err.MySQLError as error:  # a missing table: the database was never seeded
        return empty_source_message(etl, f"cannot be read ({error.args[-1]})")
    if not all(present):
        return empty_source_message(etl)
    return None


def _lab_grader(exercise: str, max_score: float, precheck: Callable[..., str | None] | None = None
                ) -> Callable[[Callable[..., Any]], Callable[..., GradeResult]]:
    """:func:`~utils.teaching.grading.grader`, plus the lab's environment problems.

    ``precheck`` receives the grader's arguments and returns why grading cannot work (an
    empty source, a closed connection...) or None; it runs before the "Not done yet" check,
    because an empty source turns even a right answer into None. A connection lost while
    grading is reported as such, never as an error in the learner's answer.
    """

    def blocked(reason: str) -> GradeResult:
        return GradeResult(exercise, False, 0.0, max_score, GRADING_BLOCKED + reason[:1].lower() + reason[1:])

    def decorate(check: Callable[..., Any]) -> Callable[..., GradeResult]:
        @functools.wraps(check)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return check(*args, **kwargs)
            except LabError as error:
                return blocked(str(error))
            except pymysql.err.MySQLError as error:
                if is_connection_error(error):
                    return blocked(str(connection_lost_error(kwargs.get("conn"), error)))
                raise

        graded = grader(exercise, max_score)(guarded)

        @functools.wraps(check)
        def grade(*args: Any, **kwargs: Any) -> GradeResult:
            if precheck is not None:
                try:
                    problem = precheck(*args, **kwargs)
                except TypeError:  # called the wrong way: the grader says so
                    problem = None
                if problem:
                    return blocked(problem)
            return graded(*args, **kwargs)

        grade.exercise = exercise  # type: ignore[attr-defined]
        grade.max_score = max_score  # type: ignore[attr-defined]
        return grade

    return decorate


def star_fact_rows() -> int | None:
    """Rows of the star schema's fact table (Athena), or None when they cannot be counted."""
    from utils.teaching.lab_c1w2 import star_schema_rows

    try:
        return star_schema_rows()
    except Exception:  # the grader must not fail because of this probe
        return None


def _check_has_rows(df: Any, name: str) -> None:
    """An empty Athena result: blame the empty star schema when it is empty, else the query."""
    if not isinstance(df, pd.DataFrame) or not df.empty:
        return
    rows = star_fact_rows()
    if rows == 0:
        raise LabError(EMPTY_STAR_MESSAGE)
    if rows is None:
        raise AssertionError(f"`{name}` has no rows. If your query is right, then {EMPTY_STAR_MESSAGE}")
    raise AssertionError(
        f"`{name}` has no rows although fact_orders has {rows:,}: your query keeps none of them. "
        "Check its JOIN conditions (join on the dimension's key) and any WHERE."
    )


def _truth_precheck(*_args: Any, truth: Any = None, **_kwargs: Any) -> str | None:
    if truth is None:
        return None
    lines = getattr(truth, "order_lines", None)
    by_country = getattr(truth, "revenue_by_country", truth)
    if lines == 0 or (isinstance(by_country, Mapping) and not by_country):
        return empty_source_message(etl=True)
    return None


def _sales_precheck(*_args: Any, sales: Any = None, **_kwargs: Any) -> str | None:
    if isinstance(sales, pd.DataFrame) and sales.empty:
        return EMPTY_STAR_MESSAGE
    return None


def _source_precheck(*_args: Any, conn: Any = None, **_kwargs: Any) -> str | None:
    return None if conn is None else _source_problem(conn)


def _source_precheck_etl(*_args: Any, conn: Any = None, **_kwargs: Any) -> str | None:
    return None if conn is None else _source_problem(conn, etl=True)


def _scalar(conn: Any, sql: str) -> Any:
    return _rows(conn, sql)[0][0]


def _money(value: Any) -> str:
    return f"{float(value):,.2f}"


def _as_number(value: Any, name: str) -> Decimal:
    """A learner's number (int, float, Decimal, numpy scalar, 1x1 frame) as a Decimal."""
    if isinstance(value, pd.DataFrame):
        assert value.shape == (1, 1), (
            f"`{name}` is a table of shape {value.shape}; it should be one number. "
            "Take the single value of a one-row result with `.iloc[0, 0]`."
        )
        value = value.iloc[0, 0]
    if isinstance(value, pd.Series):
        assert len(value) == 1, f"`{name}` is a column of {len(value)} values; it should be one number."
        value = value.iloc[0]
    if hasattr(value, "item") and not isinstance(value, Decimal):
        value = value.item()
    assert not isinstance(value, bool | str), (
        f"`{name}` should be a number, not {type(value).__name__} {value!r}."
    )
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise AssertionError(f"`{name}` should be a number, not {type(value).__name__}.") from None
    assert number.is_finite(), f"`{name}` is {value}; it should be a finite number (is a SUM empty?)."
    return number


def _same_money(a: Decimal, b: Any) -> bool:
    """Equal to the cent."""
    return abs(a - Decimal(str(b))) <= Decimal("0.005")


def _close(a: float, b: float) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.01)


def _strip_sql(sql: str) -> str:
    assert isinstance(sql, str), f"Your SQL should be a string, not {type(sql).__name__}."
    body = sql.strip().rstrip(";").strip()
    assert body, "Your SQL is empty."
    assert ";" not in body, "Write one SELECT statement (no `;` in the middle)."
    return body


def _result_frame(df: Any, name: str, label: str, value: str) -> None:
    """An Athena result a learner stored: a DataFrame with at least two columns."""
    assert isinstance(df, pd.DataFrame), (
        f"`{name}` should be the DataFrame that wr.athena.read_sql_query returns, not {type(df).__name__}."
    )
    assert len(df.columns) >= 2, (
        f"`{name}` has the columns {list(df.columns)}; it needs a {label} column and a {value} column."
    )


def _label_column(df: pd.DataFrame, name: str, label: str, known: set[str]) -> Any:
    """The text column holding the most of the ``known`` labels (on a tie, one named ``label``)."""
    texts = [c for c in df.columns if not _numeric_like(df[c])]
    assert texts, f"`{name}` has no text column holding the {label} (columns: {list(df.columns)})."

    def rank(column: Any) -> tuple[int, bool]:
        values = df[column].dropna().astype(str).str.strip()
        return int(values.isin(known).sum()), str(column).lower().replace("_", "") == label

    return max(texts, key=rank)  # max keeps the first of equals: the leftmost column


def _value_columns(df: pd.DataFrame, name: str, label_col: Any, value: str) -> list[Any]:
    numeric = [c for c in df.columns if c != label_col and _numeric_like(df[c])]
    assert numeric, f"`{name}` has no numeric column holding the {value} (columns: {list(df.columns)})."
    return numeric


def _plausibility(got: list[float], expected: list[float]) -> tuple[int, float]:
    """How well figures match: how many are right, then (closer is better) the median log-ratio."""
    right = sum(_close(g, e) for g, e in zip(got, expected, strict=True))
    gaps = sorted(abs(math.log(g / e)) for g, e in zip(got, expected, strict=True) if g > 0 and e > 0)
    return right, -(gaps[len(gaps) // 2] if gaps else math.inf)


def _floats(column: pd.Series) -> list[float]:
    return [float(v) if v is not None and not pd.isna(v) else math.nan for v in column]


def _numeric_like(column: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(column):
        return True
    sample = column.dropna().head(5)
    return len(sample) > 0 and all(isinstance(v, Decimal | int | float) for v in sample)


# --------------------------------------------------------------------------------------
# Exercise 1: the postal-code join
# --------------------------------------------------------------------------------------

# The original course joins order lines to the DISTINCT (postalCode, city, state, country)
# rows of customers on postalCode; its dashboard does so with an inner join.
POSTAL_CODE_JOIN_SQL = """
SELECT {select}
FROM orderdetails AS od
JOIN orders AS o ON o.orderNumber = od.orderNumber
JOIN customers AS c ON c.customerNumber = o.customerNumber
{join} (SELECT DISTINCT postalCode, city, state, country FROM customers) AS l
    ON l.postalCode = c.postalCode
"""

# Exercise 1's multiple-choice question: letter -> (statement shown in the lab, why it is
# true or false). The lab's markdown lists the statements word for word (a test checks it).
# "B" (shared postal codes) and "D" (NULL postal codes) are the two causes; whether each
# one is true is checked on the data at grading time (see explanation_causes).
EXPLANATION_CHOICES: dict[str, tuple[str, str]] = {
    "A": (
        "The join rounds `priceEach`, so every order line's amount drifts by a fraction of a cent.",
        "A is false: `quantityOrdered * priceEach` is exact DECIMAL arithmetic and a join does not "
        "round anything. The gap is made of whole order lines, counted twice or not at all.",
    ),
    "B": (
        "One postal code can belong to several locations (different cities, even countries), so an "
        "order line of a customer with such a code matches several location rows and is counted "
        "more than once.",
        "B is true: a postal code is not unique among the locations (the query in Step 6 lists codes "
        "shared by several cities), so the join multiplies those customers' order lines.",
    ),
    "C": (
        "The source holds duplicated orders, which the join counts twice.",
        "C is false: `orderNumber` is the key of `orders` and each order line is one row of "
        "`orderdetails`; `true_total` counts those rows once. Only the join changes the count.",
    ),
    "D": (
        "Customers whose postal code is NULL match no location row, so the inner join drops their "
        "order lines.",
        "D is true: in SQL `NULL = NULL` is not true, so a customer without a postal code finds no "
        "location and the inner JOIN loses all of their order lines.",
    ),
    "E": (
        "Customers whose postal code is NULL all match one another's location row (NULL equals "
        "NULL), so their order lines are multiplied.",
        "E is false: `NULL = NULL` is NULL (unknown), not true, so NULL postal codes match nothing: "
        "those order lines are lost, not multiplied (that is D).",
    ),
    "F": (
        "Order dates are stored in different time zones, so some order lines fall outside the "
        "period being summed.",
        "F is false: neither total filters on dates, so time zones cannot change which order lines "
        "are summed.",
    ),
}
SHARED_CHOICE, NULL_CHOICE = "B", "D"


def explanation_choices_markdown() -> str:
    """The options of exercise 1 as the lab's markdown lists them (one ``- **X.** ...`` per line)."""
    return "\n".join(f"- **{letter}.** {text}" for letter, (text, _) in EXPLANATION_CHOICES.items())


def _as_choices(answer: Any) -> set[str]:
    """A learner's multiple-choice answer (list/tuple/set of letters, or "B, D") as a set of letters."""
    example = f'`explanation = ["{SHARED_CHOICE}"]`'
    if isinstance(answer, str):
        text = answer.strip()
        tokens = [t for t in re.split(r"[\s,;/+&]+|\band\b", text, flags=re.IGNORECASE) if t]
        if len(tokens) == 1 and text.isalpha() and text.isupper():
            tokens = list(text)  # "BD"
        assert tokens and all(len(t) == 1 and t.isalpha() for t in tokens), (
            "`explanation` should be the letters of the true statements, not a sentence: e.g. "
            f"{example} (a list of letters)."
        )
        letters = tokens
    else:
        assert isinstance(answer, list | tuple | set | frozenset), (
            f"`explanation` should be a list of letters such as {example}, not {type(answer).__name__}."
        )
        assert all(isinstance(x, str) and len(x.strip()) == 1 for x in answer), (
            f"`explanation` should hold single letters (strings), e.g. {example}; it holds {list(answer)!r}."
        )
        letters = [x.strip() for x in answer]
    chosen = {x.upper() for x in letters}
    options = ", ".join(EXPLANATION_CHOICES)
    unknown = sorted(chosen - set(EXPLANATION_CHOICES))
    assert not unknown, f"{', '.join(unknown)} is not an option: choose among {options}."
    assert chosen, f"`explanation` is empty: choose every true statement among {options}."
    return chosen


def explanation_causes(conn: Any) -> set[str]:
    """The true options of exercise 1 for this database: B when a postal code used by an ordering
    customer is shared by several locations, D when an ordering customer has no postal code."""
    shared, nulls = _rows(
        conn,
        """
        SELECT EXISTS (SELECT 1 FROM orders AS o JOIN customers AS c ON c.customerNumber = o.customerNumber
                       JOIN (SELECT postalCode FROM (SELECT DISTINCT postalCode, city, state, country
                                                     FROM customers) AS l
                             GROUP BY postalCode HAVING COUNT(*) > 1) AS s ON s.postalCode = c.postalCode),
               EXISTS (SELECT 1 FROM orders AS o JOIN customers AS c ON c.customerNumber = o.customerNumber
                       WHERE c.postalCode IS NULL)""",
    )[0]
    return {letter for letter, present in ((SHARED_CHOICE, shared), (NULL_CHOICE, nulls)) if present}


def postal_code_join_figures(conn: Any) -> dict[str, Decimal]:
    """Totals behind exercise 1, computed in MySQL.

    - ``true``: every order line once;
    - ``postal_join``: order lines inner-joined to the distinct locations on postal code
      (the original dashboard's figure);
    - ``left_join``: the same with a LEFT JOIN (keeps customers with a NULL postal code);
    - ``customers_join``: joined to every customer row sharing the postal code;
    - ``null_postal``: revenue of customers whose postal code is NULL.
    """
    revenue = "COALESCE(SUM(od.quantityOrdered * od.priceEach), 0)"
    return {
        "true": Decimal(
            _scalar(conn, "SELECT COALESCE(SUM(quantityOrdered * priceEach), 0) FROM orderdetails")
        ),
        "postal_join": Decimal(_scalar(conn, POSTAL_CODE_JOIN_SQL.format(select=revenue, join="JOIN"))),
        "left_join": Decimal(_scalar(conn, POSTAL_CODE_JOIN_SQL.format(select=revenue, join="LEFT JOIN"))),
        "customers_join": Decimal(
            _scalar(
                conn,
                f"""
            SELECT {revenue.replace("SUM(", "SUM(n.customers * ")}
            FROM orderdetails AS od
            JOIN orders AS o ON o.orderNumber = od.orderNumber
            JOIN customers AS c ON c.customerNumber = o.customerNumber
            JOIN (SELECT postalCode, COUNT(*) AS customers FROM customers GROUP BY postalCode) AS n
                ON n.postalCode = c.postalCode""",
            )
        ),
        "null_postal": Decimal(
            _scalar(
                conn,
                f"""
            SELECT {revenue} FROM orderdetails AS od
            JOIN orders AS o ON o.orderNumber = od.orderNumber
            JOIN customers AS c ON c.customerNumber = o.customerNumber
            WHERE c.postalCode IS NULL""",
            )
        ),
    }


def postal_code_join_by_country(conn: Any) -> pd.DataFrame:
    """Revenue per country, true (customer's country) vs through the postal-code join.

    The postal-code join takes the country from the *location* row, so an order line
    whose postal code is shared is counted once per matching location, possibly in
    another country; lines of customers with no postal code disappear.
    """
    true = _rows(
        conn,
        """
        SELECT TRIM(c.country), SUM(od.quantityOrdered * od.priceEach)
        FROM orderdetails AS od JOIN orders AS o ON o.orderNumber = od.orderNumber
        JOIN customers AS c ON c.customerNumber = o.customerNumber GROUP BY TRIM(c.country)""",
    )
    joined = _rows(
        conn,
        POSTAL_CODE_JOIN_SQL.format(
            select="TRIM(l.country), SUM(od.quantityOrdered * od.priceEach)", join="JOIN"
        )
        + " GROUP BY TRIM(l.country)",
    )
    df = pd.DataFrame(true, columns=["country", "true_revenue"]).merge(
        pd.DataFrame(joined, columns=["country", "postal_join_revenue"]), on="country", how="outer"
    )
    figures = ["true_revenue", "postal_join_revenue"]
    df[figures] = df[figures].fillna(0).astype(float)
    df["ratio"] = (df["postal_join_revenue"] / df["true_revenue"]).round(3)
    return df.sort_values("true_revenue", ascending=False).reset_index(drop=True)


@_lab_grader("c1w2_ex1_postal_code_join", max_score=3, precheck=_source_precheck)
def grade_postal_code_join(postal_join_total: Any, true_total: Any, explanation: Any, *, conn: Any):
    """Check the postal-join and true totals (to the cent) and the statements chosen as causes.

    ``explanation`` is a multiple-choice answer: the letters of the true statements among
    :data:`EXPLANATION_CHOICES` (a list, tuple or set, or a string such as ``"B, D"``).
    Each wrong or missing letter gets its own explanation.
    """
    figures = postal_code_join_figures(conn)
    joined = _as_number(postal_join_total, "postal_join_total")
    true = _as_number(true_total, "true_total")
    problems: list[str] = []
    score = 0
    if _same_money(joined, figures["postal_join"]):
        score += 1
    elif _same_money(joined, figures["true"]) and _same_money(true, figures["postal_join"]):
        problems.append(
            "Your two totals are swapped: `postal_join_total` is the figure the postal-code join gives."
        )
    elif _same_money(joined, figures["true"]):
        problems.append(
            "`postal_join_total` equals the true total: join the order lines to the DISTINCT "
            "(postalCode, city, state, country) rows ON postalCode, as the original design did."
        )
    elif _same_money(joined, figures["left_join"]):
        problems.append(
            "`postal_join_total` kept the customers whose postal code is NULL (a LEFT JOIN). The "
            "original dashboard uses an inner JOIN, which drops them: use JOIN."
        )
    elif _same_money(joined, figures["customers_join"]):
        problems.append(
            "`postal_join_total` joins to every customer row sharing the postal code. Join to "
            "the distinct locations instead: (SELECT DISTINCT postalCode, city, state, country "
            "FROM customers)."
        )
    else:
        problems.append(
            "`postal_join_total` is not what the postal-code join gives. Sum quantityOrdered * "
            "priceEach over orderdetails JOIN orders JOIN customers JOIN the distinct locations "
            "ON l.postalCode = c.postalCode."
        )
    if _same_money(true, figures["true"]):
        score += 1
    elif not any("swapped" in p for p in problems):
        if _same_money(true, figures["postal_join"]):
            problems.append(
                "`true_total` is the postal-code join's figure: compute it from orderdetails "
                "alone, without joining locations."
            )
        else:
            problems.append(
                "`true_total` should be SUM(quantityOrdered * priceEach) over every row of "
                "orderdetails (each order line counted exactly once)."
            )
    chosen = _as_choices(explanation)
    causes = explanation_causes(conn)
    wrong_picks = sorted(chosen - causes)
    missed = sorted(causes - chosen)
    if not wrong_picks and not missed:
        score += 1
    else:
        notes = [EXPLANATION_CHOICES[x][1] for x in wrong_picks]
        notes += [f"You left out {x}. {EXPLANATION_CHOICES[x][1]}" for x in missed]
        problems.append("Your choice of statements is not right yet. " + " ".join(notes))
    if problems:
        return score, " ".join(problems)
    gap = figures["postal_join"] - figures["true"]
    return (
        f"Right: the postal-code join reports {_money(figures['postal_join'])} instead of "
        f"{_money(figures['true'])} (a difference of {_money(gap)}), and you picked the causes: "
        "shared postal codes duplicate lines, NULL postal codes lose them."
    )


# --------------------------------------------------------------------------------------
# Exercise 2: dim_locations with a real key
# --------------------------------------------------------------------------------------

LOCATION_COLUMNS = ("locationKey", "postalCode", "city", "state", "country")


def _columns_of(conn: Any, sql: str) -> list[str]:
    try:
        return _execute(conn, f"SELECT * FROM ({sql}) AS dim_locations LIMIT 0")[0]
    except pymysql.err.MySQLError as error:
        message = error.args[-1] if error.args else str(error)
        raise AssertionError(
            f"MySQL could not run your SQL: {message}. Try it in a cell of its own "
            "with lab.run_sql(conn, dim_locations_sql) to see the whole error."
        ) from None


# Probe locations substituted for ``customers`` to test the learner's key on rows the data
# may not hold (a key must tell apart every possible pair of locations, not only today's):
#
# - the NULL pair: two locations that differ only in which nullable column is NULL (state
#   NULL and postal code "Zyx" vs state "Zyx" and postal code NULL; city and country "Zyx").
#   Skipping the NULLs, both read "Zyx", "Zyx", "Zyx" in any column order, so CONCAT_WS
#   without COALESCE (or CONCAT of COALESCE(x, '') without a separator) gives them one key;
# - separator pairs, one per ordered pair of columns (a, b): a="P<k>a", b="b" vs a="P<k>",
#   b="ab" (the two other columns "Q<k>"). Glued without a separator, whichever two columns
#   are adjacent in the learner's order read "P<k>ab" for both: CONCAT without a separator
#   collides even with markers for NULL.
PROBE_VALUE = "Zyx"
_PROBE_COLUMNS = ("postalCode", "city", "state", "country")
_LEADING_WITH = re.compile(
    r"^((?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|/\*.*?\*/)*)WITH(\s+RECURSIVE)?\b", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True)
class _ProbePair:
    kind: str  # "null" or "separator"
    first: dict[str, str | None]
    second: dict[str, str | None]
    glued: tuple[str, str] = ("", "")  # separator pairs: the two columns, in concatenation order


def _probe_pairs() -> list[_ProbePair]:
    pairs = [
        _ProbePair(
            "null",
            {"city": PROBE_VALUE, "state": None, "postalCode": PROBE_VALUE, "country": PROBE_VALUE},
            {"city": PROBE_VALUE, "state": PROBE_VALUE, "postalCode": None, "country": PROBE_VALUE},
        )
    ]
    ordered = [(a, b) for a in _PROBE_COLUMNS for b in _PROBE_COLUMNS if a != b]
    for k, (a, b) in enumerate(ordered, start=1):
        rest = {c: f"Q{k}" for c in _PROBE_COLUMNS if c not in (a, b)}
        pairs.append(
            _ProbePair("separator", {**rest, a: f"P{k}a", b: "b"}, {**rest, a: f"P{k}", b: "ab"}, (a, b))
        )
    return pairs


PROBE_PAIRS = _probe_pairs()


_QUALIFIED_CUSTOMERS = re.compile(
    r"(?<![\w`.])(?:`[^`]+`|\w+)\s*\.\s*(?:`customers`|customers)(?![\w`])", re.IGNORECASE
)


def _unqualified_customers(sql: str) -> str:
    """``classicmodels.customers`` (any schema, any quoting) -> ``customers``, so the probe replaces it."""
    return _QUALIFIED_CUSTOMERS.sub("customers", sql)


def _with_probe_customers(conn: Any, sql: str) -> str | None:
    """The learner's SQL with ``customers`` replaced by the probe customers (a CTE).

    Schema-qualified references to the source's ``customers`` are rewritten first. The
    columns other than the location come from one real customer (customerNumber made
    unique). A learner's own ``WITH`` gets the probe as its first CTE (MariaDB does not let
    an outer CTE reach into a nested WITH).
    """
    database = _scalar(conn, "SELECT DATABASE()")
    if not database:
        return None
    columns = _execute(conn, "SELECT * FROM customers LIMIT 0")[0]
    if not set(_PROBE_COLUMNS) <= set(columns):
        return None
    locations = [loc for pair in PROBE_PAIRS for loc in (pair.first, pair.second)]
    selects = []
    for number, location in enumerate(locations, start=1):
        values = []
        for column in columns:
            if column in location:
                value = location[column]
                values.append(("NULL" if value is None else f"'{value}'") + f" AS `{column}`")
            elif column == "customerNumber":
                values.append(f"{2_000_000_000 + number} AS `{column}`")
            else:
                values.append(f"c.`{column}`")
        selects.append(
            f"(SELECT {', '.join(values)} FROM `{database}`.`customers` AS c "
            "ORDER BY c.customerNumber LIMIT 1)"
        )
    cte = f"customers AS ({' UNION ALL '.join(selects)})"
    sql = _unqualified_customers(sql)
    leading = _LEADING_WITH.match(sql)
    if leading:
        recursive = leading.group(2) or ""
        return f"WITH{recursive} {cte}, {sql[leading.end() :]}"
    return f"WITH {cte} {sql}"


def _probe_key(values: tuple[Any, ...]) -> tuple[str | None, ...]:
    """A dimension row's location as the probe spelled it: trimmed, casefolded, '' as NULL."""
    cleaned = []
    for value in values:
        text = None if value is None else str(value).strip().casefold()
        cleaned.append(text or None)
    return tuple(cleaned)


def _check_key_collisions(conn: Any, sql: str, key: str, columns: tuple[str, ...]) -> set[str]:
    """Fail when the learner's key gives one value to two probe locations; return what was checked.

    The result holds "null" and/or "separator" for the probe kinds whose locations all came
    back from the learner's SQL. Nothing is checked (never a false failure) when the probe
    cannot be substituted or run.
    """
    try:
        probed = _with_probe_customers(conn, sql)
        if probed is None:
            return set()
        pc, city, state, country = columns
        rows = _rows(conn, f"SELECT `{key}`, `{pc}`, `{city}`, `{state}`, `{country}` FROM ({probed}) AS d")
    except pymysql.err.MySQLError:
        return set()
    keys: dict[tuple[str | None, ...], set[Any]] = {}
    for row in rows:
        keys.setdefault(_probe_key(row[1:]), set()).add(row[0])

    def key_of(location: Mapping[str, str | None]) -> set[Any] | None:
        return keys.get(_probe_key(tuple(location[c] for c in _PROBE_COLUMNS)))

    checked: dict[str, bool] = {"null": True, "separator": True}
    for pair in PROBE_PAIRS:
        first, second = key_of(pair.first), key_of(pair.second)
        if first is None or second is None:
            checked[pair.kind] = False
            continue
        shared = {k for k in first & second if k is not None}
        if not shared:
            continue
        if pair.kind == "null":
            raise AssertionError(
                f"Two different locations get the same locationKey: city {PROBE_VALUE!r} with state NULL "
                f"and postal code {PROBE_VALUE!r}, and city {PROBE_VALUE!r} with state {PROBE_VALUE!r} and "
                f"postal code NULL (country {PROBE_VALUE!r} for both). CONCAT_WS skips NULL arguments, so "
                f"both hash the same text ('{PROBE_VALUE}|{PROBE_VALUE}|{PROBE_VALUE}' with a '|' "
                "separator). Wrap every column that can be NULL in COALESCE with a marker, e.g. "
                "COALESCE(state, '~'), and keep a separator between the values."
            )
        a, b = pair.glued
        raise AssertionError(
            f"Two different locations get the same locationKey: {a} {pair.first[a]!r} with {b} "
            f"{pair.first[b]!r}, and {a} {pair.second[a]!r} with {b} {pair.second[b]!r}. Your key glues "
            f"the values together without a separator, so both read '{pair.first[a]}{pair.first[b]}'. "
            "Put a separator between the values: CONCAT_WS('|', ...) instead of CONCAT(...)."
        )
    return {kind for kind, complete in checked.items() if complete}


def _untrimmed_values(conn: Any, sql: str, columns: Mapping[str, str]) -> list[str]:
    """``country 'Norway  '``-style descriptions of values with stray spaces in the learner's rows."""
    found = []
    for label, column in columns.items():
        rows = _rows(
            conn,
            f"SELECT DISTINCT CONCAT('''', d.`{column}`, '''') FROM ({sql}) AS d "
            f"WHERE CHAR_LENGTH(d.`{column}`) <> CHAR_LENGTH(TRIM(d.`{column}`)) OR d.`{column}` = '' "
            "LIMIT 3",
        )
        found += [f"{label} {row[0]}" for row in rows]
    return found


def _source_locations(conn: Any) -> int:
    """Distinct locations of the source's customers (trimmed, '' as NULL)."""
    return int(
        _scalar(
            conn,
            "SELECT COUNT(*) FROM (SELECT DISTINCT NULLIF(TRIM(postalCode), ''), NULLIF(TRIM(city), ''), "
            "NULLIF(TRIM(state), ''), NULLIF(TRIM(country), '') FROM customers) AS l",
        )
    )


@_lab_grader("c1w2_ex2_dim_locations", max_score=1, precheck=_source_precheck)
def grade_dim_locations(dim_locations_sql: Any, *, conn: Any):
    """Run the learner's dim_locations SQL on the source and check its values, key and coverage.

    The values must be trimmed (the source has stray spaces); the key (``locationKey``)
    must be non-NULL and unique, with one row per location (not per customer); every
    customer must map to exactly one row by its address (NULL-safe equality of postal
    code, city, state and country, trimmed, empty strings as NULL), so joining order lines
    through the dimension neither loses nor duplicates revenue. Finally the key is tried on
    probe locations that only a NULL-safe key with a separator tells apart.
    """
    sql = _strip_sql(dim_locations_sql)
    columns = _columns_of(conn, sql)
    by_lower = {c.lower(): c for c in columns}
    missing = [c for c in LOCATION_COLUMNS if c.lower() not in by_lower]
    assert not missing, (
        f"Your dim_locations lacks the column(s) {missing} (it has {columns}). "
        f"Select {', '.join(LOCATION_COLUMNS)}: name the key column locationKey."
    )
    key, pc, city, state, country = (by_lower[c.lower()] for c in LOCATION_COLUMNS)
    rows, keyed, distinct = _rows(
        conn, f"SELECT COUNT(*), COUNT(`{key}`), COUNT(DISTINCT `{key}`) FROM ({sql}) AS d"
    )[0]
    assert rows > 0, "Your dim_locations has no rows."
    assert keyed == rows, (
        f"{rows - keyed} row(s) have a NULL locationKey. A key must identify every row; "
        "postal codes can be NULL, which is one reason postalCode cannot be the key."
    )
    repeated = None
    if distinct < rows:
        example = _rows(
            conn,
            f"""
            SELECT d.`{key}`, d.`{pc}`, d.`{city}`, d.`{state}`, d.`{country}` FROM ({sql}) AS d
            JOIN (SELECT `{key}` AS k FROM ({sql}) AS d2 GROUP BY `{key}` HAVING COUNT(*) > 1 LIMIT 1) AS dup
              ON d.`{key}` = dup.k LIMIT 5""",
        )
        places = {tuple(r[1:]) for r in example}
        shown = "; ".join(" / ".join(str(v) for v in place) for place in sorted(places, key=str))
        if len({_probe_key(place) for place in places}) > 1:  # different places, even once trimmed
            raise AssertionError(
                f"locationKey {example[0][0]!r} is shared by different locations ({shown}): a key must tell "
                "locations apart. A postal code alone cannot (several cities share one); build the key from "
                "every column that identifies a location."
            )
        repeated = (
            f"{rows - distinct} key value(s) repeat because the same location is listed more than "
            f"once (e.g. locationKey {example[0][0]!r}: {shown}). Keep one row per location "
            "(SELECT DISTINCT)."
        )
    raw = ", ".join(f"CAST(d.`{c}` AS BINARY)" for c in (pc, city, state, country))
    spelled = int(_scalar(conn, f"SELECT COUNT(*) FROM (SELECT DISTINCT {raw} FROM ({sql}) AS d) AS l"))
    if spelled < rows and repeated is None:  # more keys than locations, however they are spelled
        cleaned = ", ".join(f"NULLIF(TRIM(d.`{c}`), '')" for c in (pc, city, state, country))
        locations = int(
            _scalar(conn, f"SELECT COUNT(*) FROM (SELECT DISTINCT {cleaned} FROM ({sql}) AS d) AS l")
        )
        customers = int(_scalar(conn, "SELECT COUNT(*) FROM customers"))
        per_customer = "customernumber" in by_lower or rows == customers
        raise AssertionError(
            f"Your dim_locations has {rows} rows for {locations} different locations (the source's "
            f"{customers} customers have {_source_locations(conn)}): the same location gets several keys"
            + (", one per customer" if per_customer else "")
            + ". A dimension has one row per location, so two customers at one address share its key. "
            "Select the DISTINCT location columns and build the key from them, not from customerNumber."
        )
    labelled = {"postal code": pc, "city": city, "state": state, "country": country}
    untrimmed = _untrimmed_values(conn, sql, labelled)
    if untrimmed:
        raise AssertionError(
            f"Your dim_locations keeps stray spaces from the source: {', '.join(untrimmed[:4])}. To Athena "
            "and the dashboard 'Norway  ' and 'Norway' are two countries (and ' 530-0003' is not "
            "'530-0003'). TRIM every column (and turn '' into NULL with NULLIF(TRIM(x), '')) before "
            "DISTINCT and before building the key."
        )
    if repeated:
        raise AssertionError(repeated)
    pairs = ((pc, "postalCode"), (city, "city"), (state, "state"), (country, "country"))
    match = " AND ".join(
        f"NULLIF(TRIM(d.`{mine}`), '') <=> NULLIF(TRIM(c.{theirs}), '')" for mine, theirs in pairs
    )
    unmatched, multiple, through_dim, true_total = _rows(
        conn,
        f"""
        SELECT COALESCE(SUM(m.n = 0), 0), COALESCE(SUM(m.n > 1), 0),
               COALESCE(SUM(COALESCE(r.revenue, 0) * m.n), 0), COALESCE(SUM(r.revenue), 0)
        FROM (SELECT c.customerNumber, COUNT(d.`{key}`) AS n
              FROM customers AS c LEFT JOIN ({sql}) AS d ON {match}
              GROUP BY c.customerNumber) AS m
        LEFT JOIN (SELECT o.customerNumber, SUM(od.quantityOrdered * od.priceEach) AS revenue
                   FROM orders AS o JOIN orderdetails AS od ON od.orderNumber = o.orderNumber
                   GROUP BY o.customerNumber) AS r ON r.customerNumber = m.customerNumber""",
    )[0]
    if unmatched:
        nulls = _scalar(
            conn,
            f"""SELECT COUNT(*) FROM customers AS c WHERE c.postalCode IS NULL
                                  AND NOT EXISTS (SELECT 1 FROM ({sql}) AS d WHERE {match})""",
        )
        hint = (
            " They include customers with a NULL postal code: don't filter those out, a location "
            "without a postal code is still a location."
            if nulls
            else ""
        )
        raise AssertionError(
            f"{int(unmatched)} customer(s) have no row in your dim_locations, so their sales "
            f"({_money(true_total - through_dim)} of {_money(true_total)}) would vanish from any report "
            f"joined through it.{hint}"
        )
    if multiple:
        raise AssertionError(
            f"{int(multiple)} customer(s) match more than one row of your dim_locations, so a join would "
            f"count their order lines several times ({_money(through_dim)} instead of {_money(true_total)}). "
            "Keep exactly one row per location."
        )
    checked = _check_key_collisions(conn, sql, key, (pc, city, state, country))
    summary = (
        f"locationKey is unique and never NULL; all customers map to exactly one of your {rows} "
        f"locations, so revenue through the dimension is {_money(through_dim)}, the source's total."
    )
    if checked == {"null", "separator"}:
        return summary + (
            " Your key also tells apart locations that differ only in where a NULL is or where one "
            "value ends and the next begins."
        )
    skipped = []
    if "null" not in checked:
        skipped.append("locations that differ only in which column is NULL")
    if "separator" not in checked:
        skipped.append("values glued together without a separator")
    return summary + (
        f" Not checked (the grader could not put its test rows into your SQL): whether your key "
        f"tells apart {' or '.join(skipped)}."
    )


# --------------------------------------------------------------------------------------
# Exercise 3: revenue per country from the star schema
# --------------------------------------------------------------------------------------


def _truth_by_country(truth: Any) -> dict[str, float]:
    by_country = getattr(truth, "revenue_by_country", truth)
    assert isinstance(by_country, Mapping), "The grader needs the ground truth (ground_truth(conn))."
    return {str(k).strip(): float(v) for k, v in by_country.items()}


@_lab_grader("c1w2_ex3_revenue_by_country", max_score=1, precheck=_truth_precheck)
def grade_revenue_by_country(revenue_by_country: Any, *, truth: Any):
    """Compare an Athena result (country, revenue) with MySQL's revenue per country.

    ``truth`` is :func:`utils.classicmodels.truth.ground_truth` (or its
    ``revenue_by_country`` mapping). Rows must be one per country, every country,
    revenue right to the cent, largest first.
    """
    expected = _truth_by_country(truth)
    _check_has_rows(revenue_by_country, "revenue_by_country")
    _result_frame(revenue_by_country, "revenue_by_country", "country", "revenue")
    df = revenue_by_country.reset_index(drop=True)
    country_col = _label_column(df, "revenue_by_country", "country", set(expected))
    assert not df[country_col].isna().any(), (
        "One row has no country (NULL): some order lines found no location row. Join the facts to "
        "the dimension on its key so every line finds its customer's country."
    )
    countries = df[country_col].astype(str).str.strip()
    repeated = countries[countries.duplicated()].unique().tolist()
    assert not repeated, (
        f"{repeated[:3]} appear more than once: GROUP BY the country so each country gets one row."
    )
    missing = sorted(set(expected) - set(countries))
    extra = sorted(set(countries) - set(expected))
    if missing:
        kept = len(countries)
        top = sorted(expected, key=lambda c: (-expected[c], c))[:kept]
        if set(countries) == set(top):
            raise AssertionError(
                f"`revenue_by_country` has only {kept} rows, the {kept} countries that sell most: the "
                f"other {len(missing)} (e.g. {', '.join(missing[:3])}) are cut off. Every country must be "
                f"listed ({len(expected)} of them): remove the LIMIT {kept}."
            )
        raise AssertionError(
            f"Missing countries: {missing[:5]}{' ...' if len(missing) > 5 else ''}. Their sales "
            "were lost by a join: an inner join on a column that can be NULL (like postal code) "
            "drops rows. Join on the dimension's key."
        )
    assert not extra, f"These are not customer countries of the source: {extra[:5]}."
    numeric = _value_columns(df, "revenue_by_country", country_col, "revenue")
    want = [expected[c] for c in countries]
    figures = {column: _floats(df[column]) for column in numeric}
    matching = [c for c in numeric if all(_close(g, e) for g, e in zip(figures[c], want, strict=True))]
    if not matching:
        value_col = max(numeric, key=lambda c: _plausibility(figures[c], want))
        got = dict(zip(countries, figures[value_col], strict=True))
        wrong = {
            c: got[c] / expected[c] if expected[c] else math.inf
            for c in expected
            if not _close(got[c], expected[c])
        }
        high = {c: r for c, r in wrong.items() if r > 1}
        if high:
            worst = max(high, key=high.get)
            raise AssertionError(
                f"Revenue is too high for {len(high)} country(ies), e.g. {worst}: {high[worst]:.2f} times "
                "the true figure. A join is duplicating order lines (joining on postal code does that, since "
                "several locations share one). Each order line must be counted once."
            )
        if len(df.columns) > 2:
            raise AssertionError(
                f"None of the numeric columns of `revenue_by_country` ({', '.join(map(str, numeric))}) "
                "holds each country's revenue. Keep two columns: the country and its revenue, "
                "SUM(orderamount) over the country's order lines."
            )
        worst = min(wrong, key=wrong.get)
        raise AssertionError(
            f"Revenue is wrong for {len(wrong)} country(ies), e.g. {worst}: {got[worst]:,.2f} instead of "
            f"{expected[worst]:,.2f}. Revenue is SUM(quantityOrdered * priceEach) (the order amount) "
            "over every order line of the country's customers."
        )
    value_col = matching[0]
    values = figures[value_col]
    assert values == sorted(values, reverse=True), (
        "The figures are right but not in order: sort by revenue, largest first (ORDER BY revenue DESC)."
    )
    return (
        f"All {len(expected)} countries match MySQL to the cent; {countries[0]} leads with "
        f"{_money(values[0])}."
    )


# --------------------------------------------------------------------------------------
# Exercise 4: the top products
# --------------------------------------------------------------------------------------

PRODUCT_TOTALS_SQL = """
SELECT p.productName, SUM(od.quantityOrdered * od.priceEach) AS total_sales,
       SUM(od.quantityOrdered) AS quantity, SUM(od.priceEach) AS prices,
       SUM(od.quantityOrdered * p.MSRP) AS msrp_sales
FROM orderdetails AS od JOIN products AS p ON p.productCode = od.productCode
GROUP BY p.productCode, p.productName
"""

# Measures a learner may total instead of the sales (column of product_totals -> feedback).
# Named by the measure's own figures or ranking, so the feedback says what was summed.
WRONG_MEASURES = {
    "prices": (
        "Your totals add up priceEach alone: that is the price without the quantity (a line of 30 models "
        "counts as one). Sales are SUM(quantityOrdered * priceEach), the orderamount of fact_orders."
    ),
    "msrp_sales": (
        "Your totals use MSRP, the list price the manufacturer suggests, instead of the price paid "
        "(priceEach): sales are what customers actually paid, SUM(quantityOrdered * priceEach), the "
        "orderamount of fact_orders."
    ),
    "quantity": (
        "You ranked products by quantity ordered. Rank by sales: SUM(quantityOrdered * priceEach)."
    ),
}


def product_totals(conn: Any) -> pd.DataFrame:
    """Sales, quantity, summed prices and MSRP-based sales of every product that sold, from MySQL.

    Sorted by sales, largest first (ties by name).
    """
    rows = _rows(conn, PRODUCT_TOTALS_SQL)
    figures = ["total_sales", "quantity", "prices", "msrp_sales"]
    df = pd.DataFrame(rows, columns=["product_name", *figures])
    df[figures] = df[figures].astype(float)
    return df.sort_values(["total_sales", "product_name"], ascending=[False, True]).reset_index(drop=True)


def _top_by(totals: pd.DataFrame, measure: str, n: int) -> list[str]:
    ranked = totals.sort_values([measure, "product_name"], ascending=[False, True])
    return ranked["product_name"].head(n).tolist()


@_lab_grader("c1w2_ex4_top_products", max_score=1, precheck=_source_precheck_etl)
def grade_top_products(top_products: Any, *, conn: Any, n: int = 5):
    """Check an Athena result (product name, total sales): the top ``n`` by sales, largest first.

    A wrong measure (prices without quantities, MSRP instead of the price paid, quantities)
    is named from the figures or the ranking it produces.
    """
    _check_has_rows(top_products, "top_products")
    _result_frame(top_products, "top_products", "product name", "total sales")
    df = top_products.reset_index(drop=True)
    totals = product_totals(conn)
    all_names = set(totals["product_name"])
    name_col = _label_column(df, "top_products", "productname", all_names)
    assert df[name_col].astype(str).str.strip().isin(all_names).any(), (
        f"No column of `top_products` holds product names (columns: {list(df.columns)}). Select the "
        "product's name (productname, from dim_products), not its code."
    )
    expected = totals.head(n)
    names = df[name_col].astype(str).str.strip().tolist()
    assert len(names) == n, (
        f"`top_products` has {len(names)} rows; the exercise asks for the top {n}: "
        f"end the query with LIMIT {n}."
    )
    if names == totals.tail(n).sort_values("total_sales")["product_name"].tolist():
        raise AssertionError(
            "These are the products that sold the LEAST: sort by total sales descending "
            "(ORDER BY total_sales DESC) so the best sellers come first."
        )
    numeric = _value_columns(df, "top_products", name_col, "total sales")
    figures = {column: _floats(df[column]) for column in numeric}
    by_name = totals.set_index("product_name")
    if all(name in by_name.index for name in names):

        def figures_are(measure: str) -> bool:
            want = [float(by_name.at[name, measure]) for name in names]
            return any(all(_close(v, e) for v, e in zip(figures[c], want, strict=True)) for c in numeric)

        right_figures = figures_are("total_sales")
        for measure, feedback in WRONG_MEASURES.items():
            ranked_by_it = names == _top_by(totals, measure, n) and names != expected["product_name"].tolist()
            if not right_figures and (figures_are(measure) or ranked_by_it):
                same_products = set(names) == set(expected["product_name"])
                if measure == "quantity" and figures_are(measure) and same_products:
                    raise AssertionError(
                        "The products are right but the figures are quantities, not sales: "
                        "SUM(quantityOrdered * priceEach)."
                    )
                raise AssertionError(feedback)
    assert set(names) == set(expected["product_name"]), (
        f"Not the {n} best sellers. Group the order lines by product, total SUM(quantityOrdered * "
        "priceEach) and keep the largest."
    )
    assert names == expected["product_name"].tolist(), (
        "The right products, but not in order: sort by total sales, largest first."
    )
    sales = expected["total_sales"].tolist()
    if any(all(_close(v, e) for v, e in zip(figures[c], sales, strict=True)) for c in numeric):
        return f"The top {n} products and their sales match MySQL; {names[0]} sells most."
    if len(df.columns) > 2:
        raise AssertionError(
            f"The products are right, but none of the numeric columns of `top_products` "
            f"({', '.join(map(str, numeric))}) holds their total sales. Keep two columns: the product's "
            "name and its total sales, SUM(orderamount)."
        )
    raise AssertionError(
        "The products are right but their totals differ from the source: is an order line counted twice "
        "(a join on a non-unique column) or missing?"
    )


# --------------------------------------------------------------------------------------
# Exercise 5: the dashboard's filter
# --------------------------------------------------------------------------------------


def probe_selections(sales: pd.DataFrame) -> list[tuple[str, Selection]]:
    """Selections that tell a right filter from the usual wrong ones, chosen from the data.

    They cover: everything; a range whose first and last days have sales (inclusive
    ends); a single day; one country; one product line; all three together.
    """
    dates = sorted(sales["order_date"].unique())
    country = sales.groupby("country")["total_sales"].sum().idxmax()
    line = sales.groupby("product_line")["total_sales"].sum().idxmin()
    a, b = dates[len(dates) // 3], dates[min(len(dates) - 1, len(dates) // 3 + 7)]
    day = dates[len(dates) // 2]
    country_dates = sorted(sales.loc[sales["country"] == country, "order_date"].unique())
    c1, c2 = (
        country_dates[len(country_dates) // 4],
        country_dates[min(len(country_dates) - 1, len(country_dates) // 4 + 20)],
    )
    return [
        ("all dates, ALL countries, ALL product lines", Selection(dates[0], dates[-1])),
        (f"{a:%Y-%m-%d} to {b:%Y-%m-%d}, ALL countries, ALL product lines", Selection(a, b)),
        (f"the single day {day:%Y-%m-%d}", Selection(day, day)),
        (f"country {country}", Selection(dates[0], dates[-1], country=country)),
        (f"product line {line}", Selection(dates[0], dates[-1], product_line=line)),
        (
            f"{country}, {line}, {c1:%Y-%m-%d} to {c2:%Y-%m-%d}",
            Selection(c1, c2, country=country, product_line=line),
        ),
    ]


def _kept_index(mask: Any, sales: pd.DataFrame) -> pd.Index:
    """The rows the dashboard keeps with the learner's mask: it filters with ``sales.loc[mask]``.

    A boolean Series (index of ``sales``) or a 1-D boolean array (``.to_numpy()``), one value
    per row, is accepted; anything the dashboard would choke on fails with the reason.
    """
    if isinstance(mask, pd.DataFrame):
        raise AssertionError(
            "`in_selection` returned a DataFrame (the selected rows themselves), not a mask. The dashboard "
            "filters with `sales.loc[mask]`, which then raises `Cannot index with multidimensional key`. "
            "Return the boolean condition (one True/False per row), without `sales[...]` around it."
        )
    if isinstance(mask, list | tuple):
        mask = np.asarray(mask)
    if isinstance(mask, np.ndarray):
        assert mask.ndim == 1, (
            f"`in_selection` returned an array of shape {mask.shape}; "
            "return one True/False per row of `sales`."
        )
    elif not isinstance(mask, pd.Series | pd.api.extensions.ExtensionArray):
        raise AssertionError(
            "`in_selection` should return a boolean Series (one True/False per row), "
            f"not {type(mask).__name__}."
        )
    assert len(mask) == len(sales), (
        f"`in_selection` returned {len(mask)} values for {len(sales)} rows: "
        "return one True/False per row of `sales`."
    )
    if not pd.api.types.is_bool_dtype(mask.dtype):
        raise AssertionError(
            f"`in_selection` returned values of type {mask.dtype}, not True/False: return a boolean Series "
            "(comparisons such as `sales['country'] == selection.country`, combined with & and |)."
        )
    try:
        return sales.loc[mask].index
    except Exception as error:  # what the dashboard would hit
        raise AssertionError(
            f"The dashboard filters with `sales.loc[mask]`; with your mask that raises "
            f"{type(error).__name__}: {error}. Return one True/False per row, built from the columns of "
            "the `sales` it receives (same index)."
        ) from None


def _diagnose(name: str, selection: Selection, sales: pd.DataFrame, got: pd.Index, want: pd.Index) -> str:
    lost, extra = sales.loc[want.difference(got)], sales.loc[got.difference(want)]
    where = f"For the selection ({name})"
    if got.empty and (selection.country == ALL or selection.product_line == ALL):
        return (
            f'{where} your filter keeps no rows. "ALL" means "do not filter this column": '
            "test `selection.country == ALL` before comparing the column."
        )
    if not lost.empty and (lost["order_date"] == selection.end).all():
        return (
            f"{where} the rows of the end date are missing: the range includes both ends, "
            "so keep order_date <= end (or use .between(start, end))."
        )
    if not lost.empty and (lost["order_date"] == selection.start).all():
        return (
            f"{where} the rows of the start date are missing: keep order_date >= start "
            "(both ends are included)."
        )
    outside = (extra["order_date"] < selection.start) | (extra["order_date"] > selection.end)
    if not extra.empty and outside.any():
        return f"{where} your filter keeps rows outside the date range."
    if not extra.empty and selection.country != ALL and (extra["country"] != selection.country).any():
        return f"{where} your filter keeps other countries: compare sales['country'] with the selection."
    if (
        not extra.empty
        and selection.product_line != ALL
        and (extra["product_line"] != selection.product_line).any()
    ):
        return f"{where} your filter keeps other product lines."
    return (
        f"{where} your filter keeps {len(got)} rows instead of {len(want)} "
        f"({len(lost)} missing, {len(extra)} too many)."
    )


@_lab_grader("c1w2_ex5_selection_filter", max_score=1, precheck=_sales_precheck)
def grade_selection_filter(in_selection: Callable[[pd.DataFrame, Selection], Any], *, sales: pd.DataFrame):
    """Run the learner's filter on several selections; compare with :func:`dashboard.in_selection`."""
    assert callable(in_selection), (
        "`in_selection` should be a function, e.g. `lambda sales, selection: ...` returning a boolean Series."
    )
    data = prepare_sales(sales)
    if data.empty:
        raise LabError(EMPTY_STAR_MESSAGE)
    for name, selection in probe_selections(data):
        want = data.index[dash.in_selection(data, selection).to_numpy()]
        got = _kept_index(in_selection(data.copy(), selection), data)
        if not got.sort_values().equals(want.sort_values()):
            raise AssertionError(_diagnose(name, selection, data, got, want))
    return (
        "Your filter keeps exactly the right rows for every selection tried "
        "(inclusive dates, ALL, both filters)."
    )


# --------------------------------------------------------------------------------------
# Declared exercises (the instructor's gradebook takes the list and maxima from here)
# --------------------------------------------------------------------------------------
from utils.teaching.registry import declare, provide  # noqa: E402 - declarations come last

GRADING_STATEMENT_TIMEOUT_S = 60
"""A learner's SQL run by a grader on the grading side stops after this long (MariaDB max_statement_time)."""


def grading_connection(_get: Callable[[str], Any] | None = None) -> Any:
    """The grading side's ``conn``: the read-only ETL user, statements cut off after a minute.

    Graders run learners' SQL on it, so it never has more rights than the learner's own.
    """
    from utils.services.mariadb import connect

    conn = connect("etl", connect_timeout=10, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"SET SESSION max_statement_time = {GRADING_STATEMENT_TIMEOUT_S}")
    return conn


def grading_truth(get: Callable[[str], Any]) -> Any:
    """The grading side's ``truth``: the source's control totals, computed once before the batch."""
    from utils.classicmodels.truth import ground_truth

    return ground_truth(get("conn"))


def grading_sales(_get: Callable[[str], Any] | None = None) -> pd.DataFrame:
    """The grading side's ``sales``: the dashboard's Athena query, run once per batch by the grader."""
    from utils.config import GLUE_DATABASE

    return dash.load_sales(GLUE_DATABASE)


declare("C1W2_1_source_system", grade_postal_code_join, grade_dim_locations)
declare("C1W2_2_etl_pipeline", grade_revenue_by_country, grade_top_products)
declare("C1W2_3_dashboard", grade_selection_filter)
provide("conn", grading_connection, per_worker=True)
provide("truth", grading_truth)
provide("sales", grading_sales)
