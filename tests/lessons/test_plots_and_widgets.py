"""Plot helpers draw without error, and the pure functions behind the lesson widgets."""

import base64

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils.concepts import costs, design, ec2, regions, requirements, stakeholders  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_region_ranking_text_for_the_widget():
    users = [regions.UserGroup("Paris", 48.86, 2.35)]
    text = regions.format_ranking(regions.pick_region(users, latency_weight=1, cost_weight=0), top=2)
    lines = text.splitlines()
    assert len(lines) == 3 and lines[0].startswith("rank")
    assert "eu-west-3" in lines[1]


def test_region_widget_extremes_are_valid_weights():
    users = [regions.UserGroup("Paris", 48.86, 2.35)]
    for latency in (0.0, 1.0):
        assert regions.pick_region(users, latency_weight=latency, cost_weight=1 - latency)


def test_instance_type_widget_text():
    assert ec2.explain_or_error("m5d.4xlarge").startswith("m5d.4xlarge")
    assert ec2.explain_or_error("m5d.4xl").startswith("Invalid:")


def test_plot_helpers_return_axes():
    demand = costs.synthetic_demand(days=2)
    axes = [
        regions.plot_regions(
            [regions.UserGroup("Paris", 48.86, 2.35)], best="eu-west-3", extent=(-15, 30, 35, 65)
        ),
        costs.plot_elasticity(demand, 10),
        costs.plot_billing_options(0.1),
        costs.plot_forgotten_resources(costs.lab_resources(), days=2),
        requirements.plot_thinking_cycle(),
        stakeholders.plot_value_vs_effort([stakeholders.Project("a", 10, 1, "b")]),
        design.plot_lab_architecture(),
    ]
    assert all(ax is not None for ax in axes)
    assert axes[0].get_xlim() == (-15, 30)


# --- Static fallbacks (utils.teaching.widgets) and glyphs every viewer can draw --------------------

def _displayed(obj, monkeypatch) -> list[dict]:
    """The mimebundles that displaying ``obj`` publishes, in order."""
    shown: list[dict] = []
    monkeypatch.setattr("IPython.display.display",
                        lambda item, raw=False: shown.append(item if raw else item._repr_mimebundle_()))
    obj._ipython_display_()
    return shown


def test_with_fallback_displays_a_hidden_fallback_then_the_widget(monkeypatch):
    import ipywidgets

    from utils.teaching import widgets as w

    slider = ipywidgets.FloatSlider(value=0.7, description="latency weight")
    assert w.with_fallback(slider, lambda: f"weight {slider.value}") is slider
    slider.value = 0.4  # the fallback is computed when displayed: it shows the state at that moment
    fallback, widget = _displayed(slider, monkeypatch)
    assert fallback[w.WIDGET_VIEW_MIMETYPE]["model_id"] == ""
    assert fallback["text/plain"] == "weight 0.4" and "weight 0.4" in fallback["text/html"]
    assert widget[w.WIDGET_VIEW_MIMETYPE]["model_id"] == slider.model_id
    assert widget["text/plain"] == w.DEFAULT_NOTE  # not "FloatSlider(value=0.4, ...)"


def test_static_bundle_accepts_text_html_png_figures_and_bundles():
    from matplotlib.figure import Figure

    from utils.teaching import widgets as w

    assert w.static_bundle("a < b")["text/html"] == f'<pre class="{w.FALLBACK_CLASS}">a &lt; b</pre>'
    assert w.static_bundle(w.Html("<b>x</b>", "x")) == {"text/plain": "x", "text/html": "<b>x</b>"}
    fig = Figure()
    fig.suptitle("A chart")
    png = w.static_bundle(fig)
    assert png["text/plain"] == "A chart" and base64.b64decode(png["image/png"]).startswith(w.PNG_SIGNATURE)
    assert w.static_bundle(base64.b64decode(png["image/png"]))["image/png"] == png["image/png"]
    assert w.static_bundle({"text/markdown": "*x*"}) == {"text/markdown": "*x*", "text/plain": ""}


@pytest.mark.parametrize("bad, message", [
    (b"GIF89a", "PNG"),
    (42, "not int"),
    ({"application/vnd.jupyter.widget-view+json": {}}, "besides the widget view"),
])
def test_a_bad_fallback_fails_where_it_is_written(bad, message):
    import ipywidgets

    from utils.teaching.widgets import with_fallback

    with pytest.raises(TypeError, match=message):
        with_fallback(ipywidgets.HTML(), bad)


def test_quiz_render_shows_questions_and_folded_answers_as_fallback(monkeypatch):
    from utils.teaching.quiz import MARK_RIGHT, question
    from utils.teaching.quiz import Quiz as QuizModel
    from utils.teaching.widgets import FALLBACK_CLASS, WIDGET_VIEW_MIMETYPE

    quiz = QuizModel("Demo <quiz>", (question("2 + 2?", ("4", True, "arithmetic"), ("5", False, "off by one"),
                                              rotate=False),))
    box = quiz.render()
    fallback, widget = _displayed(box, monkeypatch)
    page = fallback["text/html"]
    assert FALLBACK_CLASS in page and "Demo &lt;quiz&gt;" in page and "<b>Q1.</b> 2 + 2?" in page
    assert "a) 4" in page and "b) 5" in page
    answers = page[page.index("<details>"):]  # the answers are folded away, after the questions
    assert f"{MARK_RIGHT} a) arithmetic" in answers and "off by one" in answers
    text = fallback["text/plain"]
    assert "Q1. 2 + 2?\n   a) 4\n   b) 5" in text and "arithmetic" not in text  # no answers in plain text
    assert fallback[WIDGET_VIEW_MIMETYPE]["model_id"] == ""
    assert widget[WIDGET_VIEW_MIMETYPE]["model_id"] == box.model_id


def _dejavu_charmaps() -> dict[str, set[int]]:
    """Code points of DejaVu Sans: matplotlib's copy (figures) and Debian's (Chromium), if installed."""
    from pathlib import Path

    from matplotlib import font_manager, ft2font

    fonts = {"matplotlib": font_manager.findfont("DejaVu Sans", fallback_to_default=False)}
    debian = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core, with chromium
    if debian.exists():
        fonts["debian"] = str(debian)
    return {name: set(ft2font.FT2Font(path).get_charmap()) for name, path in fonts.items()}


def test_marks_in_outputs_are_glyphs_dejavu_sans_has():
    from utils.teaching.grading import GradeResult
    from utils.teaching.quiz import MARK_RIGHT, MARK_WRONG

    marks = {MARK_RIGHT, MARK_WRONG, GradeResult("e", True, 1, 1, "").summary()[0],
             GradeResult("e", False, 0, 1, "").summary()[0]}
    assert marks == {"\u2713", "\u2717"}
    for name, charmap in _dejavu_charmaps().items():
        assert all(ord(mark) in charmap for mark in marks), f"{name} DejaVu Sans lacks one of {marks}"


# The instructor's gradebook report (owned elsewhere) still uses the emoji marks: issue #14 follow-up.
GLYPH_EXCEPTIONS = {"utils/teaching/gradebook.py"}


def test_code_that_draws_or_displays_uses_no_glyph_missing_from_dejavu_sans():
    """Figures (matplotlib draws with DejaVu Sans) and outputs (Chromium falls back to it) in utils/."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    charmaps = _dejavu_charmaps()
    missing = {}
    for path in sorted((root / "utils").rglob("*.py")):
        relative = str(path.relative_to(root))
        if relative in GLYPH_EXCEPTIONS:
            continue
        text = path.read_text(encoding="utf-8")
        absent = sorted({ch for ch in text if ord(ch) > 127
                         and any(ord(ch) not in charmap for charmap in charmaps.values())})
        if absent:
            missing[relative] = absent
    assert not missing, f"characters DejaVu Sans cannot draw (use ✓/✗ or plain text): {missing}"
