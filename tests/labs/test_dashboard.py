"""The dashboard's logic without a browser: filter, top N, title, no-sales message, chart, widgets."""

from __future__ import annotations

import base64
from datetime import date

import pandas as pd
import pytest

from utils.teaching import dashboard as dash
from utils.teaching.dashboard import ALL, Selection


@pytest.fixture
def sales() -> pd.DataFrame:
    rows = [
        ("2004-01-01", "Classic Cars", "Ferrari", "France", 100.0),
        ("2004-01-01", "Classic Cars", "Ferrari", "USA", 50.0),
        ("2004-01-02", "Motorcycles", "Harley", "USA", 300.0),
        ("2004-01-03", "Classic Cars", "Porsche", "France", 80.0),
        ("2004-01-03", "Planes", "Spitfire", "Norway  ", 20.0),
        ("2004-01-05", "Motorcycles", "Ducati", "France", 200.0),
    ]
    return dash.prepare_sales(pd.DataFrame(rows, columns=list(dash.SALES_COLUMNS)))


def test_prepare_sales_normalises_types_and_trims_countries(sales: pd.DataFrame) -> None:
    assert pd.api.types.is_datetime64_any_dtype(sales["order_date"])
    assert sales["total_sales"].dtype == float
    assert "Norway" in set(sales["country"])


def test_prepare_sales_accepts_decimals_and_dates_as_athena_returns_them() -> None:
    from decimal import Decimal

    raw = pd.DataFrame({"order_date": [date(2004, 1, 1)], "product_line": ["Ships"],
                        "product_name": ["HMS"], "country": ["UK"], "total_sales": [Decimal("12.50")],
                        "extra": [1]})
    out = dash.prepare_sales(raw)
    assert list(out.columns) == list(dash.SALES_COLUMNS)
    assert out["total_sales"].iloc[0] == 12.5


def test_prepare_sales_names_missing_columns() -> None:
    with pytest.raises(ValueError, match="country"):
        dash.prepare_sales(pd.DataFrame({"order_date": [], "product_line": [], "product_name": [],
                                         "total_sales": []}))


def test_selection_normalises_dates() -> None:
    s = Selection(date(2004, 1, 1), "2004-01-31 13:45")
    assert s.start == pd.Timestamp("2004-01-01") and s.end == pd.Timestamp("2004-01-31")


def test_date_range_is_inclusive_at_both_ends(sales: pd.DataFrame) -> None:
    rows = dash.filter_sales(sales, Selection("2004-01-01", "2004-01-03"))
    assert set(rows["order_date"].dt.day) == {1, 2, 3}
    assert len(dash.filter_sales(sales, Selection("2004-01-02", "2004-01-02"))) == 1


def test_all_means_no_filter_and_values_filter(sales: pd.DataFrame) -> None:
    everything = Selection("2004-01-01", "2004-01-31")
    assert len(dash.filter_sales(sales, everything)) == len(sales)
    france = dash.filter_sales(sales, Selection("2004-01-01", "2004-01-31", country="France"))
    assert set(france["country"]) == {"France"} and len(france) == 3
    both = dash.filter_sales(sales, Selection("2004-01-01", "2004-01-31", "France", "Motorcycles"))
    assert both["product_name"].tolist() == ["Ducati"]


def test_a_custom_mask_is_used(sales: pd.DataFrame) -> None:
    only_usa = dash.filter_sales(sales, Selection("2004-01-01", "2004-01-31"),
                                 mask=lambda s, _sel: s["country"] == "USA")
    assert set(only_usa["country"]) == {"USA"}


def test_top_products_sums_sorts_and_limits(sales: pd.DataFrame) -> None:
    top = dash.top_products(sales, Selection("2004-01-01", "2004-01-31", top_n=3))
    assert top["product_name"].tolist() == ["Harley", "Ducati", "Ferrari"]
    assert top["total_sales"].tolist() == [300.0, 200.0, 150.0]  # Ferrari: France + USA


def test_top_products_breaks_ties_by_name() -> None:
    tied = dash.prepare_sales(pd.DataFrame(
        [("2004-01-01", "A", name, "X", 10.0) for name in ("b", "c", "a")], columns=list(dash.SALES_COLUMNS)))
    assert dash.top_products(tied, Selection("2004-01-01", "2004-01-01"))["product_name"].tolist() == [
        "a", "b", "c"]


def test_top_products_of_an_empty_selection_is_empty(sales: pd.DataFrame) -> None:
    assert dash.top_products(sales, Selection("2005-01-01", "2005-12-31")).empty
    assert dash.top_products(sales, Selection("2004-01-01", "2004-01-31", country="Japan")).empty


def test_chart_title_reflects_the_selection() -> None:
    default = dash.chart_title(Selection("2004-01-01", "2004-12-31"))
    assert default == "Top 5 products by sales: all countries, all product lines, 2004-01-01 to 2004-12-31"
    picked = dash.chart_title(Selection("2004-01-01", "2004-12-31", "France", "Planes", top_n=3))
    assert picked.startswith("Top 3 products by sales: France, Planes,")


def test_no_sales_message_says_what_and_what_to_do() -> None:
    message = dash.no_sales_message(Selection("2004-02-01", "2004-02-02", country="Japan"))
    assert "Nothing was sold" in message and "Japan" in message and "Widen the dates" in message
    swapped = dash.no_sales_message(Selection("2004-02-02", "2004-02-01"))
    assert "swap them" in swapped


def test_default_selection_spans_the_data(sales: pd.DataFrame) -> None:
    s = dash.default_selection(sales)
    assert (s.start, s.end, s.country, s.product_line, s.top_n) == (
        pd.Timestamp("2004-01-01"), pd.Timestamp("2004-01-05"), ALL, ALL, 5)


def test_plot_draws_one_bar_per_product_largest_on_top(sales: pd.DataFrame) -> None:
    selection = Selection("2004-01-01", "2004-01-31", top_n=3)
    fig = dash.plot_top_products(dash.top_products(sales, selection), selection)
    ax = fig.axes[0]
    assert fig.get_suptitle().replace("\n", " ") == dash.chart_title(selection)
    assert len(ax.patches) == 3
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "Harley"  # barh draws bottom-up: the largest is the last, on top
    assert dash.figure_png(fig).startswith(b"\x89PNG")
    untitled = dash.plot_top_products(dash.top_products(sales, selection), selection, titled=False)
    assert untitled.get_suptitle() == "" and untitled.axes[0].get_title() == ""


def test_plot_of_nothing_shows_the_message() -> None:
    selection = Selection("2005-01-01", "2005-01-02", country="Japan")
    fig = dash.plot_top_products(pd.DataFrame(columns=["product_name", "total_sales"]), selection)
    texts = [t.get_text().replace("\n", " ") for t in fig.axes[0].texts]
    assert texts == [dash.no_sales_message(selection)]


def test_dashboard_widgets_drive_the_title(sales: pd.DataFrame) -> None:
    board = dash.Dashboard(sales)
    assert [o for o in board.country.options] == [ALL, "France", "Norway", "USA"]
    assert board.top_n.min == 1 and board.top_n.max == 10 and board.top_n.value == 5
    assert "all countries" in board.title.value
    board.select(country="France")
    assert "France" in board.title.value and board.top["product_name"].tolist()[0] == "Ducati"
    board.select(start=date(2004, 1, 4), end=date(2004, 1, 4))
    assert "Nothing was sold" in board.title.value


def test_dashboard_reports_a_broken_mask_instead_of_crashing(sales: pd.DataFrame) -> None:
    board = dash.Dashboard(sales, mask=lambda s, _sel: s["no such column"])
    assert "Error: " in board.title.value and board.top.empty


def test_wrap_title_puts_the_selection_on_its_own_lines() -> None:
    title = dash.chart_title(Selection("2003-01-06", "2005-05-31"))
    assert dash.wrap_title(title) == (
        "Top 5 products by sales:\nall countries, all product lines, 2003-01-06 to 2005-05-31")
    assert all(len(line) <= 30 for line in dash.wrap_title(title, width=30).splitlines())
    assert dash.wrap_title("No colon here") == "No colon here"


# The longest names of the real data: product names, country, product line, and the full date range.
LONG_NAMES = ["1992 Ferrari 360 Spider red", "2003 Harley-Davidson Eagle Drag Bike",
              "18th Century Vintage Horse Carriage", "1957 Chevy Pickup", "1936 Mercedes-Benz 500K Special Roadster"]


@pytest.mark.parametrize("selection", [
    Selection("2003-01-06", "2005-05-31"),
    Selection("2003-01-06", "2005-05-31", country="Philippines", product_line="Trucks and Buses", top_n=10),
], ids=["default", "longest"])
def test_every_text_of_the_stored_picture_fits_in_the_figure(selection: Selection) -> None:
    """The stored PNG's title was cut at the edge ("... to 2005-05-3"): nothing may cross the edge."""
    top = pd.DataFrame({"product_name": LONG_NAMES, "total_sales": [276839.98, 190755.86, 190017.96,
                                                                   170686.0, 9161531.48]})
    fig = dash.plot_top_products(top, selection)
    fig.set_dpi(dash.PNG_DPI)  # measure at the resolution of the stored picture
    fig.draw_without_rendering()  # runs the constrained layout: the text positions are final
    renderer = fig._get_renderer()
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    drawn_ticks = [t for t in ax.get_xticklabels() if low <= t.get_position()[0] <= high]
    texts = [fig._suptitle, *ax.get_yticklabels(), *drawn_ticks, ax.xaxis.label, *ax.texts]
    assert len(texts) > len(LONG_NAMES)
    for text in texts:
        if text.get_text():
            box = text.get_window_extent(renderer)
            assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, f"{text.get_text()!r} crosses the edge"
            assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, f"{text.get_text()!r} crosses the edge"


def test_the_empty_star_message_fits_in_the_figure() -> None:
    selection = Selection("2004-01-01", "2004-01-01")
    fig = dash.plot_top_products(pd.DataFrame(columns=["product_name", "total_sales"]), selection,
                                 empty_message=dash.EMPTY_STAR_MESSAGE)
    fig.draw_without_rendering()
    box = fig.axes[0].texts[0].get_window_extent(fig._get_renderer())
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1


def test_dashboard_displays_the_widget_after_a_static_picture(sales: pd.DataFrame,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from utils.teaching.widgets import WIDGET_VIEW_MIMETYPE

    board = dash.Dashboard(sales)
    shown: list[dict] = []  # only what displaying the dashboard shows, not its first chart
    monkeypatch.setattr("IPython.display.display",
                        lambda obj, raw=False: shown.append(obj if raw else obj._repr_mimebundle_()))
    board._ipython_display_()
    picture, widget = shown
    assert picture[WIDGET_VIEW_MIMETYPE]["model_id"] == ""  # hidden where the widget renders
    assert base64.b64decode(picture["image/png"]).startswith(b"\x89PNG")
    assert picture["text/plain"].startswith("Top 5 products by sales: all countries")
    assert widget[WIDGET_VIEW_MIMETYPE]["model_id"] == board.widget.model_id
    assert widget["text/plain"] == dash.DASHBOARD_NOTE

    board.select(start=date(2004, 1, 4), end=date(2004, 1, 4))  # no sales: the picture says so, as the heading
    assert board.static_bundle()["text/plain"].startswith("Nothing was sold for all countries")
