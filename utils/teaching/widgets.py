"""Widgets that stay readable outside JupyterLab: a static fallback shown where widgets cannot run.

An ipywidgets output is only a reference to a live model (``application/vnd.jupyter.widget-view+json``
plus a ``text/plain`` repr). Exported to HTML (``jupyter nbconvert --to html``), on GitHub or in
nbviewer there is no kernel, so it shows nothing, or "VBox(children=...)". Adding a text or
PNG to the *same* output does not help: nbconvert picks the widget view whenever the notebook
stores widget state (nbclient and papermill store it), and renders it with JavaScript from a CDN.

So :func:`with_fallback` displays **two** outputs:

1. the static fallback (text, HTML or PNG) together with an *empty* widget view
   (``model_id: ""``). JupyterLab ranks the widget view first for the outputs of a cell run in
   the session and hides an empty view (the way it hides a closed widget), so the fallback
   does not show there. nbconvert skips a widget view whose model is not in the stored widget
   state, and ``""`` never is, so exports show the fallback; GitHub and nbviewer likewise.
   An untrusted notebook opened in JupyterLab (stored outputs, before the cell is run) shows
   the fallback too, as it renders only safe mimetypes;
2. the widget itself, whose ``text/plain`` is a short note instead of the widget's repr.

Usage in a lesson (the last line of the cell)::

    from utils.teaching.widgets import with_fallback

    box = widgets.VBox([slider, out])
    with_fallback(box, lambda: regions.format_ranking(regions.pick_region(users)))

The fallback may be plain text (shown preformatted), :class:`Html`, a matplotlib figure, PNG
bytes, a ready mimebundle (``dict``), or a function returning one of these, called when the
widget is displayed (so it shows the widget's state at that moment).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"
HIDDEN_WIDGET_VIEW = {"version_major": 2, "version_minor": 0, "model_id": ""}
"""A widget view of no model: JupyterLab hides it, nbconvert skips it (see the module docstring)."""

FALLBACK_CLASS = "delab-static-fallback"
"""CSS class of the HTML fallbacks made here (tests find them by it)."""

DEFAULT_NOTE = "Interactive widget: run this cell in JupyterLab to use it."
"""The widget's ``text/plain`` (shown where neither the widget nor HTML renders)."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Html:
    """An HTML fallback, with the plain text shown where HTML is not rendered."""

    html: str
    text: str


Fallback = str | Html | bytes | Mapping[str, Any] | Any
"""Text, :class:`Html`, PNG bytes, a matplotlib figure or a mimebundle (or a function returning one)."""


def static_bundle(fallback: Fallback | Callable[[], Fallback]) -> dict[str, Any]:
    """The mimebundle of ``fallback`` (without the hidden widget view); always has ``text/plain``.

    Raises ``TypeError`` naming the type when ``fallback`` is none of the accepted kinds.
    """
    if callable(fallback) and not hasattr(fallback, "savefig"):
        fallback = fallback()
    if isinstance(fallback, str):
        return {"text/plain": fallback,
                "text/html": f'<pre class="{FALLBACK_CLASS}">{html.escape(fallback)}</pre>'}
    if isinstance(fallback, Html):
        return {"text/plain": fallback.text, "text/html": fallback.html}
    if isinstance(fallback, bytes):
        if not fallback.startswith(PNG_SIGNATURE):
            raise TypeError("a bytes fallback must be a PNG image (it does not start with the PNG signature)")
        return {"text/plain": "(image)", "image/png": base64.b64encode(fallback).decode()}
    if hasattr(fallback, "savefig"):  # a matplotlib Figure; no import needed to recognise it
        buffer = io.BytesIO()
        fallback.savefig(buffer, format="png", dpi=96)
        title = fallback.get_suptitle() if hasattr(fallback, "get_suptitle") else ""
        return {"text/plain": title or "(figure)", "image/png": base64.b64encode(buffer.getvalue()).decode()}
    if isinstance(fallback, Mapping):
        bundle = {key: value for key, value in fallback.items() if key != WIDGET_VIEW_MIMETYPE}
        if not bundle:
            raise TypeError("a mimebundle fallback needs at least one mimetype besides the widget view")
        bundle.setdefault("text/plain", "")
        return bundle
    raise TypeError(
        f"a fallback is text, Html, PNG bytes, a matplotlib figure or a mimebundle dict, "
        f"not {type(fallback).__name__}"
    )


class StaticFallback:
    """A static output shown where widgets cannot run and hidden in JupyterLab.

    Display it right before (or after) the widget it stands for; :func:`with_fallback` does both.
    """

    def __init__(self, fallback: Fallback | Callable[[], Fallback]) -> None:
        self.fallback = fallback

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {**static_bundle(self.fallback), WIDGET_VIEW_MIMETYPE: dict(HIDDEN_WIDGET_VIEW)}


def widget_bundle(widget: Any, note: str = DEFAULT_NOTE) -> dict[str, Any]:
    """The widget's own mimebundle with ``note`` as its ``text/plain`` (not the widget's repr)."""
    bundle = widget._repr_mimebundle_()
    if isinstance(bundle, tuple):  # (data, metadata) is allowed by IPython's protocol
        bundle = bundle[0]
    return {**bundle, "text/plain": note}


def display_with_fallback(widget: Any, fallback: Fallback | Callable[[], Fallback],
                          note: str = DEFAULT_NOTE) -> None:
    """Display the static fallback (hidden in JupyterLab), then ``widget``."""
    from IPython.display import display

    display(StaticFallback(fallback))
    display(widget_bundle(widget, note), raw=True)


def with_fallback(widget: Any, fallback: Fallback | Callable[[], Fallback], note: str = DEFAULT_NOTE) -> Any:
    """Return ``widget``, which from now on displays with a static fallback (see the module docstring).

    The widget is returned unchanged otherwise, so it can be the last line of a cell, be
    assigned, or be put in another box (inside a box only the box's own fallback shows).
    """
    if not callable(fallback):
        static_bundle(fallback)  # a bad fallback fails here, where it is written, not when displayed
    widget._ipython_display_ = lambda: display_with_fallback(widget, fallback, note)
    return widget
