"""The week-2 lab's sales dashboard: ipywidgets + matplotlib over one Athena query.

The course's dashboard lets you pick a date range, a country and a product line
(each with "ALL"), and a number N, then draws the top N products by total sales.
Here that is split so most of it is testable without a browser:

- :data:`SALES_SQL`, read once with :func:`load_sales` (Athena through awswrangler):
  sales aggregated by order date, product line, product and country;
- pure functions: :func:`filter_sales` (the selection's rows), :func:`top_products`,
  :func:`chart_title`, :func:`no_sales_message`, :func:`plot_top_products`,
  :func:`describe_sales` (which also says so when the star schema is empty);
- :class:`Dashboard`, which only wires widgets to those functions.

Displayed, a :class:`Dashboard` is the live widget in JupyterLab and, for viewers
without a kernel (HTML exports, GitHub, nbviewer), a static picture of the current selection
(:meth:`Dashboard.static_bundle`, displayed with :func:`utils.teaching.widgets.display_with_fallback`).
"""

from __future__ import annotations

import html
import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from utils.config import GLUE_DATABASE

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ALL = "ALL"
"""Dropdown value meaning "do not filter on this column"."""

EMPTY_STAR_MESSAGE = (
    "The star schema has no rows, so there is nothing to show: reseed the source (`make seed SF=1` in a "
    "terminal), re-run the ETL job and the crawler (part 2), then re-run this notebook from the top."
)
"""What the dashboard says when Athena returns no sales at all."""

PNG_DPI = 96
FIGURE_WIDTH_IN = 9.0
TITLE_WIDTH_CHARS = 80
"""Characters per title line: at 11 pt DejaVu Sans averages about 5.5 pt a character, so 80 fit
in the 9-inch figure (648 pt) with room to spare (tests/labs/test_dashboard.py measures it)."""

DASHBOARD_NOTE = ("Interactive dashboard: run this notebook in JupyterLab to pick the dates, the country, "
                  "the product line and N.")
"""The widget's text/plain, where neither the widget nor the picture shows."""

SALES_COLUMNS = ("order_date", "product_line", "product_name", "country", "total_sales")

# One row per (day, product line, product, country) with its sales: small enough to
# filter in pandas on every widget change, so the dashboard queries Athena once.
SALES_SQL = """
SELECT f.orderdate                   AS order_date,
       p.productline                 AS product_line,
       p.productname                 AS product_name,
       l.country                     AS country,
       SUM(f.orderamount)            AS total_sales
FROM fact_orders AS f
JOIN dim_products AS p ON p.productcode = f.productcode
JOIN dim_locations AS l ON l.locationkey = f.locationkey
GROUP BY f.orderdate, p.productline, p.productname, l.country
"""


@dataclass(frozen=True)
class Selection:
    """What the widgets say: an inclusive date range, a country, a product line and N."""

    start: pd.Timestamp
    end: pd.Timestamp
    country: str = ALL
    product_line: str = ALL
    top_n: int = 5

    def __post_init__(self) -> None:
        # Widgets give datetime.date; the sales frame holds Timestamps: compare like with like.
        object.__setattr__(self, "start", pd.Timestamp(self.start).normalize())
        object.__setattr__(self, "end", pd.Timestamp(self.end).normalize())


def load_sales(database: str = GLUE_DATABASE, sql: str = SALES_SQL) -> pd.DataFrame:
    """Run :data:`SALES_SQL` on Athena (awswrangler, default arguments) and tidy the types."""
    import awswrangler as wr

    return prepare_sales(wr.athena.read_sql_query(sql, database=database))


def prepare_sales(sales: pd.DataFrame) -> pd.DataFrame:
    """Normalise a sales frame: the expected columns, dates as Timestamps, sales as floats.

    Country names are trimmed (the source has "Norway  " with trailing spaces).
    """
    missing = [c for c in SALES_COLUMNS if c not in sales.columns]
    if missing:
        raise ValueError(f"The sales table lacks the columns {missing}; it has {list(sales.columns)}.")
    out = sales.loc[:, list(SALES_COLUMNS)].copy()
    out["order_date"] = pd.to_datetime(out["order_date"]).dt.normalize()
    out["total_sales"] = pd.to_numeric(out["total_sales"]).astype(float)
    for col in ("product_line", "product_name", "country"):
        out[col] = out[col].astype(str).str.strip()
    return out.reset_index(drop=True)


def describe_sales(sales: pd.DataFrame) -> str:
    """One line about the sales table: its size and dates, or :data:`EMPTY_STAR_MESSAGE` when empty."""
    if sales.empty:
        return EMPTY_STAR_MESSAGE
    first, last = sales["order_date"].min(), sales["order_date"].max()
    return f"{len(sales):,} rows from {first:%Y-%m-%d} to {last:%Y-%m-%d}"


def default_selection(sales: pd.DataFrame, top_n: int = 5) -> Selection:
    """The whole date range of the data, every country, every product line, top 5."""
    if sales.empty:
        today = pd.Timestamp(date.today())
        return Selection(today, today, top_n=top_n)
    return Selection(sales["order_date"].min(), sales["order_date"].max(), top_n=top_n)


def in_selection(sales: pd.DataFrame, selection: Selection) -> pd.Series:
    """Boolean mask of the rows inside the selection (dates inclusive; "ALL" = no filter)."""
    mask = sales["order_date"].between(selection.start, selection.end, inclusive="both")
    if selection.country != ALL:
        mask &= sales["country"] == selection.country
    if selection.product_line != ALL:
        mask &= sales["product_line"] == selection.product_line
    return mask


def filter_sales(
    sales: pd.DataFrame,
    selection: Selection,
    mask: Callable[[pd.DataFrame, Selection], pd.Series] | None = None,
) -> pd.DataFrame:
    """The rows of ``sales`` inside the selection.

    ``mask`` is a function ``(sales, selection) -> boolean Series`` (default
    :func:`in_selection`); the lab's exercise lets the learner supply their own.
    """
    keep = (mask or in_selection)(sales, selection)
    return sales.loc[keep]


def top_products(
    sales: pd.DataFrame,
    selection: Selection,
    mask: Callable[[pd.DataFrame, Selection], pd.Series] | None = None,
) -> pd.DataFrame:
    """The selection's top N products by total sales, largest first (columns product_name, total_sales).

    Ties are broken by product name so the result is deterministic.
    """
    rows = filter_sales(sales, selection, mask)
    totals = (
        rows.groupby("product_name", as_index=False)["total_sales"]
        .sum()
        .sort_values(["total_sales", "product_name"], ascending=[False, True])
    )
    totals = totals[totals["total_sales"] > 0]
    return totals.head(selection.top_n).reset_index(drop=True)


def _describe(selection: Selection) -> str:
    where = "all countries" if selection.country == ALL else selection.country
    lines = "all product lines" if selection.product_line == ALL else selection.product_line
    return f"{where}, {lines}, {selection.start:%Y-%m-%d} to {selection.end:%Y-%m-%d}"


def chart_title(selection: Selection) -> str:
    """The chart's title, built from the selection (e.g. "Top 5 products by sales: France, ...")."""
    return f"Top {selection.top_n} products by sales: {_describe(selection)}"


def no_sales_message(selection: Selection) -> str:
    """What to say when the selection holds no sales at all."""
    hint = (
        "The start date is after the end date: swap them."
        if selection.start > selection.end
        else "Widen the dates or choose ALL."
    )
    return f"Nothing was sold for {_describe(selection)}. {hint}"


def wrap_title(title: str, width: int = TITLE_WIDTH_CHARS) -> str:
    """``title`` on two or more lines: the headline, then the selection, each wrapped at ``width``.

    A one-line title of a long selection ("..., 2003-01-06 to 2005-05-31") is wider than the
    chart and was cut off at the figure's edge.
    """
    headline, _, rest = title.partition(": ")
    parts = [headline + (":" if rest else ""), rest] if rest else [headline]
    return "\n".join(line for part in parts for line in textwrap.wrap(part, width=width))


def plot_top_products(top: pd.DataFrame, selection: Selection, titled: bool = True,
                      empty_message: str | None = None) -> Figure:
    """A horizontal bar chart of ``top`` (largest bar on top), or the no-sales message.

    The title (the figure's suptitle, centred on the figure so it fits) is :func:`chart_title`
    wrapped by :func:`wrap_title`, unless ``titled`` is False (the live dashboard shows it as a
    heading above the chart instead). ``empty_message`` replaces :func:`no_sales_message` when
    ``top`` is empty. Returns a matplotlib ``Figure``, not attached to pyplot, so it is never
    shown twice.
    """
    from matplotlib.figure import Figure

    height = 1.6 + 0.45 * max(len(top), 2) + (0.35 if titled else 0.0)
    fig = Figure(figsize=(FIGURE_WIDTH_IN, height), layout="constrained")
    ax = fig.add_subplot()
    if titled:
        fig.suptitle(wrap_title(chart_title(selection)), fontsize=11)
    if top.empty:
        message = textwrap.fill(empty_message or no_sales_message(selection), width=TITLE_WIDTH_CHARS)
        ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#9a6700",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    names = top["product_name"][::-1]
    values = top["total_sales"][::-1]
    bars = ax.barh(names, values, color="#36507a")
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=3, fontsize=9)
    ax.set_xlabel("total sales (USD)")
    ax.set_xlim(0, float(values.max()) * 1.18)
    ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:,.0f}")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def figure_png(fig: Any) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()


class Dashboard:
    """The interactive dashboard: five widgets driving :func:`top_products` and its chart.

    ``mask`` replaces :func:`in_selection` (the lab's exercise plugs the learner's in).
    """

    def __init__(
        self, sales: pd.DataFrame, mask: Callable[[pd.DataFrame, Selection], pd.Series] | None = None
    ) -> None:
        import ipywidgets as widgets

        self.sales = prepare_sales(sales)
        self.mask = mask
        first = default_selection(self.sales)
        countries = [ALL, *sorted(self.sales["country"].unique())]
        lines = [ALL, *sorted(self.sales["product_line"].unique())]
        style = {"description_width": "80px"}
        self.start = widgets.DatePicker(description="Start", value=first.start.date(), style=style)
        self.end = widgets.DatePicker(description="End", value=first.end.date(), style=style)
        self.country = widgets.Dropdown(description="Country", options=countries, value=ALL, style=style)
        self.product_line = widgets.Dropdown(
            description="Product line", options=lines, value=ALL, style=style
        )
        self.top_n = widgets.IntSlider(description="Top N", value=first.top_n, min=1, max=10, style=style)
        self.title = widgets.HTML()
        self.title.add_class("delab-dashboard-title")
        self.output = widgets.Output()
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.start, self.end]),
                widgets.HBox([self.country, self.product_line, self.top_n]),
                self.title,
                self.output,
            ]
        )
        self.top = pd.DataFrame(columns=["product_name", "total_sales"])
        self.heading = ""
        for control in (self.start, self.end, self.country, self.product_line, self.top_n):
            control.observe(lambda _change: self.update(), names="value")
        self.update()

    @property
    def selection(self) -> Selection:
        """The selection the widgets show now."""
        return Selection(
            self.start.value, self.end.value, self.country.value, self.product_line.value, self.top_n.value
        )

    def select(self, **changes: Any) -> Selection:
        """Set widgets by name (``start``, ``end``, ``country``, ``product_line``, ``top_n``)."""
        for name, value in changes.items():
            getattr(self, name).value = value
        return self.selection

    def update(self) -> None:
        """Recompute the top products, then redraw the heading and the chart."""
        from IPython.display import Image, clear_output, display

        selection = self.selection
        colour = "#9a6700"
        try:
            if self.start.value is None or self.end.value is None:
                raise ValueError("Pick both a start and an end date.")
            self.top = top_products(self.sales, selection, self.mask)
            heading = chart_title(selection)
            if self.top.empty:
                heading = EMPTY_STAR_MESSAGE if self.sales.empty else no_sales_message(selection)
            colour = colour if self.top.empty else "inherit"
        except Exception as error:  # a learner's mask may be broken: say so in the dashboard
            self.top = pd.DataFrame(columns=["product_name", "total_sales"])
            heading, colour = f"Error: {error}", "#cf222e"
        self.heading = heading
        self.title.value = f'<b style="color:{colour}">{html.escape(heading)}</b>'
        with self.output:
            clear_output(wait=True)
            if not self.top.empty:
                display(Image(data=figure_png(plot_top_products(self.top, selection, titled=False))))

    def static_bundle(self) -> dict[str, Any]:
        """The titled chart of the current selection as PNG (or the heading's message), for exports.

        ``text/plain`` is the heading: the chart's title, or why there is no chart.
        """
        import base64

        empty = None if not self.top.empty else self.heading
        picture = plot_top_products(self.top, self.selection, empty_message=empty)
        return {"image/png": base64.b64encode(figure_png(picture)).decode(), "text/plain": self.heading}

    def _ipython_display_(self) -> None:
        """Display the live widget, with :meth:`static_bundle` for viewers without a kernel.

        The picture is a separate output that JupyterLab hides and HTML exports, GitHub and
        nbviewer show (:mod:`utils.teaching.widgets`).
        """
        from utils.teaching.widgets import display_with_fallback

        display_with_fallback(self.widget, self.static_bundle, note=DASHBOARD_NOTE)
