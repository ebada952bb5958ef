"""``resource-repair``: run the function locally, write events, invoke the deployed function.

Results go to stdout, logs and messages to stderr. Exit codes: 0 success, 1 the function
reported ``fail`` (or raised) or a cloud service refused or could not be reached, 2 a usage
error, 130 stopped by Ctrl-C. Every error is one line; every option is checked before the
first network request.

Each command declares itself in its own module under ``tools/commands``: its name, its one
line of help, its options and what it does. This module assembles the parser from COMMANDS
and turns whatever a command raises into that one line and exit code.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn, Protocol

from resource_repair.errors import ResourceRepairError
from resource_repair.tools.caller import CloudServiceError
from resource_repair.tools.command_help import document_fake_options, example
from resource_repair.tools.commands import (
    backfill,
    doctor,
    event,
    fake_cloud,
    fake_oss,
    invoke,
    remote_invoke,
    restore,
    setup,
    sweep,
    whoami,
)
from resource_repair.tools.commands.exits import EXIT_FAILED, EXIT_USAGE
from resource_repair.tools.commands.exits import say as _say
from resource_repair.tools.interruption import EXIT_INTERRUPTED  # 128 + SIGINT, as a shell says

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Command(Protocol):
    """What a module under tools/commands declares about its command."""

    NAME: str  # what is typed: resource-repair NAME
    HELP: str  # one line, in the list of commands and atop the command's own --help

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


# In the order --help lists them.
COMMANDS: tuple[Command, ...] = (
    invoke,
    event,
    remote_invoke,
    backfill,
    whoami,
    doctor,
    restore,
    setup,
    sweep,
    fake_cloud,
    fake_oss,
)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt as exc:
        # Ctrl-C: one line, not the traceback of wherever the command happened to be.
        # A command that was writing says which bucket it was in (see tools/interruption).
        _say(f"resource-repair: interrupted{': ' + str(exc) if str(exc) else ''}")
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # Said by the command's own parser, so that its --help is the one pointed to.
        _unrecognized(args.parser, extra)
    level = getattr(logging, args.log_level)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    # aliyunsdkcore logs every failed request at ERROR before raising; the command reports
    # the same failure in its own one line, so the SDK speaks only when asked for DEBUG.
    logging.getLogger("aliyunsdkcore").setLevel(
        logging.NOTSET if level <= logging.DEBUG else logging.CRITICAL
    )
    try:
        return int(args.command(args))
    except CloudServiceError as exc:
        _say(f"resource-repair: {exc}")
        return EXIT_FAILED
    except ResourceRepairError as exc:
        _say(f"resource-repair: error: {exc}")
        return EXIT_USAGE
    except Exception as exc:
        # A defect of ours, or a library's surprise: still one line, never a traceback (it
        # may quote what a server sent). DEBUG shows where, through the masked logs.
        _remember_environment_keys()  # what is masked, though no client was made yet
        logging.getLogger().debug("the command failed here", exc_info=True)  # root: masked
        _say(
            f"resource-repair: internal error ({type(exc).__name__}): {exc}; run again with"
            " --log-level DEBUG to see where, and report it"
        )
        return EXIT_FAILED


def _remember_environment_keys() -> None:
    import os

    from resource_repair.credentials import resolve_credentials
    from resource_repair.redaction import protect_logs

    found = resolve_credentials(None, os.environ)
    protect_logs(found.secrets if found else ())


# -- the parser ---------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where there is one worth showing; the example at the end as
    it is written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, [], "", argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action) or text


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="resource-repair",
        description="Run the function locally, write events, invoke the deployed function,"
        " remediate what Cloud Config already reported.",
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "--log-level", default="INFO", type=str.upper, choices=LOG_LEVELS, help="log detail"
    )
    # The same option after the subcommand; SUPPRESS keeps the one given before it otherwise.
    after = _Parser(add_help=False)
    after.add_argument(
        "--log-level",
        default=argparse.SUPPRESS,
        type=str.upper,
        choices=LOG_LEVELS,
        help="log detail (default: INFO)",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND", help="what to do")
    for command in COMMANDS:
        sub = commands.add_parser(
            command.NAME,
            help=command.HELP,
            description=command.HELP,
            parents=[after],
            formatter_class=_Formatter,
            epilog=example(command.NAME),
        )
        command.add_arguments(sub)
        sub.set_defaults(parser=sub, command=command.run)
        document_fake_options(sub)
    return parser


def _unrecognized(parser: argparse.ArgumentParser, extra: Sequence[str]) -> NoReturn:
    """The command's own usage error for options it does not have, with the closest one
    it does have (``backfill --dry-run``: a dry run is the default there)."""
    known = [o for action in parser._actions for o in action.option_strings]
    hints = []
    for word in extra:
        name = word.split("=", 1)[0]
        if name in ("--dry-run", "--dryrun"):
            hints.append(f"{name}: a dry run is the default; --apply writes")
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if close and name.startswith("-"):
            hints.append(f"did you mean {close[0]}?")
    hint = f" ({'; '.join(hints)})" if hints else ""
    parser.error(f"unrecognized arguments: {' '.join(extra)}{hint}")
