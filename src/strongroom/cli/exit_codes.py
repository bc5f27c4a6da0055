"""The one mapping from errors to exit codes and error lines, for every command.

Every error, from any command, ends as one line on stderr (``error: …``) and an exit code;
with ``--json`` also as one JSON error object on stdout:

* a ``StrongroomError``: its own code (``EXIT_FINDING`` when a check found a problem,
  ``EXIT_BAD_INPUT`` unless the error names another, e.g. 3 when the server cannot start);
* a usage error (an unknown command or option, a missing argument): ``EXIT_BAD_INPUT``;
* a group named alone: its help, and ``EXIT_BAD_INPUT``;
* a prompt aborted (Ctrl-C at ``user set-password``): 1.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import typer
from typer._click import exceptions as usage  # typer vendors click: its errors live here
from typer.core import TyperGroup

from strongroom.cli.output import error_line, to_json
from strongroom.errors import AuditChainBroken, ExportInvalid, StrongroomError

EXIT_FINDING = 1  # a check ran and found a problem (audit verify, export verify, demo scan)
EXIT_BAD_INPUT = 2


def exit_code(error: StrongroomError) -> int:
    if isinstance(error, AuditChainBroken | ExportInvalid):
        return EXIT_FINDING
    code = getattr(error, "exit_code", EXIT_BAD_INPUT)  # e.g. the server failed to start: 3
    return int(code)


def report_error(error: StrongroomError, as_json: bool) -> int:
    """Print a one-line error (and, with --json, an error object); return the exit code."""
    return report_problem(type(error).__name__, str(error), error.ids, exit_code(error), as_json)


def report_problem(
    kind: str, message: str, ids: Mapping[str, Any], code: int, as_json: bool
) -> int:
    """The one shape of every error: ``error: …`` on stderr, one line; with --json also
    ``{"error": {"type", "message", ids…}}`` on stdout. Returns ``code``."""
    message = " ".join(message.split())
    if as_json:
        payload = {"error": {"type": kind, "message": message, **ids}}
        sys.stdout.write(to_json(payload) + "\n")
        sys.stdout.flush()
    error_line(message)
    return code


def _wants_json(args: Sequence[str]) -> bool:
    return "--json" in args


class StrongroomGroup(TyperGroup):
    """Maps every error, from any subcommand, to one line on stderr and an exit code:
    a StrongroomError to its own code, a usage error (unknown command or option, a missing
    argument) to 2; with --json each also prints one JSON error object on stdout."""

    def invoke(self, ctx: Any) -> Any:  # a click Context (typer vendors click)
        try:
            return super().invoke(ctx)
        except StrongroomError as error:
            raise typer.Exit(report_error(error, _wants_json(sys.argv[1:]))) from None

    def main(self, args: Sequence[str] | None = None, *pos: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        kwargs["standalone_mode"] = False
        try:
            code = super().main(argv, *pos, **kwargs)
        except usage.NoArgsIsHelpError as help_wanted:
            help_wanted.show()  # a group named alone: its help, as the user asked
            sys.exit(EXIT_BAD_INPUT)
        except usage.UsageError as error:
            sys.exit(_usage_error(error, _wants_json(argv)))
        except usage.ClickException as error:  # e.g. an unreadable file argument
            sys.exit(
                report_problem("InvalidInput", error.format_message(), {}, error.exit_code, False)
            )
        except typer.Abort:
            sys.exit(report_problem("Aborted", "aborted", {}, 1, _wants_json(argv)))
        sys.exit(code if isinstance(code, int) else 0)


def _usage_error(error: usage.UsageError, as_json: bool) -> int:
    message = error.format_message().rstrip(".")
    message = message[:1].lower() + message[1:]
    where = error.ctx.command_path if error.ctx is not None else "strongroom"
    return report_problem(
        "UsageError", f"{message} (see: {where} --help)", {}, EXIT_BAD_INPUT, as_json
    )
