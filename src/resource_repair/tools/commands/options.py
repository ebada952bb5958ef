"""What several commands share: the options they declare alike (the event, --env, the
credentials), the checks of what the user typed, each made before the first network request,
and the credentials and account those options lead to."""

from __future__ import annotations

import argparse
import difflib
import math
from collections.abc import Callable, Mapping, Sequence

from resource_repair.credentials import Credentials
from resource_repair.delivery import MAX_EVENT_BYTES
from resource_repair.errors import InvalidEventError
from resource_repair.settings import ENDPOINT_MODE
from resource_repair.tools.commands.exits import UsageError
from resource_repair.tools.file_bounds import FileTooLargeError, read_bytes_at_most
from resource_repair.validation import check_region_id

# -- options declared alike ------------------------------------------------------------------


def event_source(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("-f", "--event-file", help="file holding the event, as FC would pass it")
    source.add_argument("-e", "--event", help="the event itself")


def env_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set one of the function's variables, over the template's; repeatable",
    )


def credential_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        help="a profile of the aliyun CLI's configuration (default: ALIBABA_CLOUD_ACCESS_KEY_*"
        " from the environment)",
    )
    parser.add_argument(
        "--sts-endpoint",
        metavar="HOST:PORT",
        help="a fake STS on this machine instead of STS (loopback only, plain HTTP):"
        " fake-cloud's $FAKE_STS",
    )


# -- numbers, checked as argparse reads them -------------------------------------------------


def port(text: str) -> int:
    value = integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0..65535)")
    return value


def count(text: str) -> int:
    value = integer(text)
    if not 0 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not within 0..1000000")
    return value


def qps(text: str) -> int:
    value = integer(text)
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not within 1..1000000")
    return value


def latency(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and 0 <= value <= 60_000):
        raise argparse.ArgumentTypeError(f"{text!r} is not within 0..60000 milliseconds")
    return value


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


# -- checks shared by the commands ----------------------------------------------------------


# Past what the function accepts (delivery.MAX_EVENT_BYTES), so that the function's own
# refusal of an oversized event can be tried; short of /dev/zero filling the memory.
MAX_EVENT_FILE_BYTES = 4 * MAX_EVENT_BYTES


def read_event(args: argparse.Namespace) -> bytes:
    if args.event is not None:
        return str(args.event).encode()
    try:
        raw = read_bytes_at_most(args.event_file, MAX_EVENT_FILE_BYTES, "event file")
    except OSError as exc:
        raise UsageError(f"cannot read event file {args.event_file}: {exc.strerror}") from None
    except FileTooLargeError as exc:
        raise UsageError(str(exc)) from None
    # Editors add a final newline; FC's STREAM body has none.
    return raw.rstrip(b"\r\n")


def account_id(value: str | None) -> str | None:
    """An account id as the user typed it, refused unless it is digits."""
    if value is not None and not (value.isascii() and value.isdigit()):
        raise UsageError(f"--account-id {value!r} must be digits (an account's UID)")
    return value


def bucket_name(value: str, option: str) -> str:
    """A bucket name as OSS allows it: an event or request naming another is refused."""
    from resource_repair.validation import check_bucket_name

    return _checked(check_bucket_name, value, option)


def region(value: str, option: str) -> str:
    return _checked(check_region_id, value, option)


def _checked(check: Callable[[str], object], value: str, option: str) -> str:
    """``value`` when the function's own check of it passes, else a usage error."""
    try:
        check(value)
    except InvalidEventError as exc:
        raise UsageError(f"{option}: {exc}") from None
    return value


def env_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``--env NAME=VALUE`` pairs; a name the function does not read is refused, since a
    typo (``dryrun=true``) would otherwise be ignored and the run would write."""
    known = function_variables()
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env {pair!r} is not NAME=VALUE")
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}? " if close else ""
            raise UsageError(
                f"--env {key}: the function reads no such variable; {hint}"
                f"it reads {', '.join(known)}"
            )
        overrides[key] = value
    return overrides


def function_variables() -> tuple[str, ...]:
    """Every environment variable the deployed code reads (resource_repair.settings lists
    them all, notifications' included): its deployment settings, then those for local runs
    and tests."""
    from resource_repair import settings

    return tuple(dict.fromkeys((*settings.VARIABLES, *settings.LOCAL_ONLY_VARIABLES)))


def function_environment(
    template: Mapping[str, str], overrides: Mapping[str, str], *, workstation: bool
) -> dict[str, str]:
    """The template's variables, then --env. Requests sent from a workstation to real OSS
    use the public endpoint, whatever the template says for the deployed function: its
    internal endpoints are unreachable from outside. An explicit --env still wins."""
    reachable = {ENDPOINT_MODE: "public"} if workstation else {}
    return {**template, **reachable, **overrides}


# -- credentials and the account they belong to ---------------------------------------------


def credentials(args: argparse.Namespace) -> Credentials:
    from resource_repair.tools.cloud_credentials import tool_credentials

    # Checked before a profile's role is assumed: the first request.
    return tool_credentials(args.profile, sts_endpoint=sts_endpoint(args))


def callers_account(args: argparse.Namespace, credentials: Credentials) -> str:
    """--account-id when given, else the account the credentials belong to (never a value
    from the template: a copied template would aim at someone else's account)."""
    if args.account_id:
        return str(args.account_id)
    from resource_repair.tools.caller import caller_identity

    return caller_identity(credentials, endpoint=sts_endpoint(args)).account_id


def sts_endpoint(args: argparse.Namespace) -> str | None:
    """The hidden --sts-endpoint, for a fake STS: plain HTTP, so loopback only."""
    from resource_repair.endpoints import loopback_host_port

    return loopback_host_port(args.sts_endpoint, "--sts-endpoint")
