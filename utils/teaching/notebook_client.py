"""nbclient, made safe for the course's widgets (used by grading, ``make labs`` and the tests).

nbclient mimics a front end's ``Output`` widget: each output captured by ``with out:`` and
each ``out.clear_output()`` sends the widget's new state back to the kernel, on the shell
channel, from the coroutine reading IOPub, while another coroutine waits on that same zmq
socket for the cell's ``execute_reply``. The send can swallow the socket's wake-up, and the
reply then sits unread until the cell's timeout (jupyter/nbclient#312). Lesson 06's region
picker hung that way under grading (16 of 122 such cells waited their full timeout) and,
once, papermill's run of the lesson in ``make test`` (an idle kernel, a client waiting for
ten minutes). Nobody looks at the kernel-side copy of an Output widget when a notebook runs
headless, so the quiet mimic keeps the outputs (they still land in the executed notebook)
and sends nothing back.
"""

from __future__ import annotations

from typing import Any

from nbclient.output_widget import OutputWidget


class QuietOutputWidget(OutputWidget):
    """nbclient's Output-widget mimic without the state it would send back to the kernel."""

    def send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        return None


def quiet_output_widgets(client: Any) -> Any:
    """Make one ``NotebookClient`` use :class:`QuietOutputWidget`; returns the client."""
    client.widget_registry.setdefault("@jupyter-widgets/output", {})["OutputModel"] = QuietOutputWidget
    return client


def quiet_output_widgets_everywhere() -> None:
    """Every ``NotebookClient`` made from now on in this process (papermill's included) uses
    :class:`QuietOutputWidget`: nbclient builds its widget registry from this module global."""
    import nbclient.client

    nbclient.client.OutputWidget = QuietOutputWidget  # type: ignore[misc]
