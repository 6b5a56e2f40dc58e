"""``python -m utils.cloud serve [--port N]``: run the local cloud in the foreground."""

from __future__ import annotations

import argparse
import sys

from utils.config import get_settings


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m utils.cloud")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_p = sub.add_parser("serve", help="serve the local cloud in the foreground")
    serve_p.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    from utils.cloud.server import serve

    port = args.port or get_settings().cloud_port
    try:
        print(f"local cloud listening on http://127.0.0.1:{port}", flush=True)
        serve(port)
    except OSError as exc:
        print(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror}. Set DELAB_CLOUD_PORT "
              "to a free port (e.g. in .env) or stop what uses it.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
