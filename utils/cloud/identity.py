"""``GET /delab-api/identity``: which checkout this local cloud belongs to.

``make up`` reuses a local cloud only when it is OURS: the process recorded in
``.delab/run/cloud.json`` and answering on our port with our project root. A cloud of
another checkout (started on our port, or reached through a stale record) answers with
its own root and is left alone. The answer::

    {"project_root": "/path/to/checkout", "pid": 1234, "port": 4566,
     "state_dir": "/path/to/checkout/.delab/cloud", "tag": "...", "code": "3f2a..."}

``tag`` is the random value the daemon was started with (``DELAB_PROCESS_TAG``); ``state_dir``
is where the cloud keeps its durable state when it has one, else the daemon's directory
(``.delab/cloud``); empty for a cloud served from a test's thread. ``code`` is :func:`code_fingerprint` as it
was when the process started: ``make up`` restarts a cloud whose code has changed since
(its state is durable, so a restart loses nothing), instead of serving yesterday's code.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from typing import Any

from werkzeug.wrappers import Request, Response

from utils.config import PROJECT_ROOT

PATH = "/delab-api/identity"
DAEMON_DIR_VARIABLE = "DELAB_CLOUD_DAEMON_DIR"  # set by utils.cloud.daemon for the process it starts


# Code the local cloud never imports: a lesson edit must not restart the cloud.
_NOT_CLOUD_CODE = ("utils/teaching/", "utils/concepts/")


def code_fingerprint() -> str:
    """A digest of the code a local cloud runs: ``utils/`` (minus the lessons' helpers) and the
    pinned packages. Computed now; :func:`started_fingerprint` keeps the start-up value."""
    digest = hashlib.sha256()
    files = sorted(p for p in (PROJECT_ROOT / "utils").rglob("*.py")
                   if not p.relative_to(PROJECT_ROOT).as_posix().startswith(_NOT_CLOUD_CODE))
    for path in [*files, PROJECT_ROOT / "requirements.lock"]:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0" + data + b"\0")
    return digest.hexdigest()[:16]


@cache
def started_fingerprint() -> str:
    """The fingerprint of the code this process started with (the server calls it at start)."""
    return code_fingerprint()


def identity(port: int | None) -> dict[str, Any]:
    """This process's identity as a local cloud."""
    from utils.services.processes import TAG_VARIABLE

    return {
        "project_root": str(PROJECT_ROOT),
        "pid": os.getpid(),
        "port": port,
        "state_dir": _state_dir(),
        "tag": os.environ.get(TAG_VARIABLE, ""),
        "code": started_fingerprint(),
    }


def _state_dir() -> str:
    from utils.cloud import persistence

    # The durable store (issue #12) names its directory once it is enabled; older stores do not.
    accessor = getattr(persistence, "state_dir", None)
    where = accessor() if callable(accessor) else None
    return str(where) if where else os.environ.get(DAEMON_DIR_VARIABLE, "")


def handle(request: Request, environ: dict[str, Any]) -> Response | None:
    """Answer the identity request; None for any other request (routing goes on)."""
    if request.path != PATH or request.method not in ("GET", "HEAD"):
        return None
    try:
        port: int | None = int(environ.get("SERVER_PORT", ""))
    except ValueError:
        port = None
    return Response(json.dumps(identity(port)), status=200, content_type="application/json")
