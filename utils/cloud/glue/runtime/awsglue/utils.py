"""``getResolvedOptions``: read a Glue job's ``--key value`` arguments (AWS-compatible)."""

from __future__ import annotations

import argparse
from typing import Any

# Arguments AWS Glue passes to every run; returned when present, never required.
_RESERVED = ("JOB_ID", "JOB_RUN_ID", "JOB_NAME", "SECURITY_CONFIGURATION", "TempDir",
             "job-bookmark-option", "encryption-type")


class GlueArgumentError(SystemExit):
    """Raised (exit code 2) when a required job argument is missing."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's default prints usage noise
        raise GlueArgumentError(
            f"{message}. Pass it in the job's DefaultArguments or in "
            "`aws glue start-job-run --arguments '{\"--name\":\"value\"}'`.")


def getResolvedOptions(args: list[str], options: list[str]) -> dict[str, Any]:  # noqa: N802 - AWS's name
    """Return ``{option: value}`` for each name in ``options`` read from ``args`` (``sys.argv``).

    Every requested option is required, as in AWS Glue; unknown arguments are ignored.
    """
    parser = _Parser(add_help=False)
    for name in _RESERVED:
        if name not in options:
            parser.add_argument(f"--{name}", required=False)
    for name in options:
        parser.add_argument(f"--{name}", required=True)
    parsed, _unknown = parser.parse_known_args(args[1:])
    values = vars(parsed)
    return {k: v for k, v in values.items() if k in options or v is not None}
