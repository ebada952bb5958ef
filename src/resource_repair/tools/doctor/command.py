"""The ``resource-repair doctor`` command: its options, and the run that prints every
check's line and sets the exit code."""

from __future__ import annotations

import argparse
from typing import TextIO

from resource_repair.errors import ResourceRepairError
from resource_repair.redaction import protect_logs
from resource_repair.tools.doctor.checks import Doctor
from resource_repair.tools.doctor.findings import FAIL, OK, SKIP
from resource_repair.tools.doctor.plan import SITE_NAMES, plan_from_args
from resource_repair.tools.template import DEFAULT_TEMPLATE
from resource_repair.tools.terminal import quiet_rpc_sdk_logs, shown_line

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# A finding lists up to a few rule names and a fix: longer than an error's line.
FINDING_CHARS = 2000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``resource-repair doctor``."""
    parser.add_argument(
        "-t",
        "--template",
        default=DEFAULT_TEMPLATE,
        help="the template to check the cloud against (default: %(default)s)",
    )
    parser.add_argument(
        "--account-id",
        help="your account's UID (default: yours, from STS GetCallerIdentity)",
    )
    parser.add_argument(
        "--profile",
        help="a profile of the aliyun CLI's configuration (default: ALIBABA_CLOUD_ACCESS_KEY_*"
        " from the environment)",
    )
    parser.add_argument(
        "--site",
        choices=SITE_NAMES,
        help="the Cloud Config site of your account (default: the template's configSite, else"
        " from its region: cn-* -> china, others -> international)",
    )
    parser.add_argument(
        "--skip-deployed",
        action="store_true",
        help="skip the checks of the deployed function, trigger and role (before `s deploy`)",
    )
    # Fakes on this machine, for tests and demos; loopback only (requests carry signatures).
    parser.add_argument("--sts-endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--config-endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--mns-endpoint", help=argparse.SUPPRESS)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run every check; 0 when none failed, 1 when one did, 2 when they could not start."""
    try:
        plan = plan_from_args(args)
    except ResourceRepairError as exc:
        print(shown_line(f"resource-repair: error: {exc}"), file=err)
        return EXIT_USAGE
    quiet_rpc_sdk_logs()
    findings = Doctor(plan).findings()
    protect_logs(plan.credentials.secrets)  # what shown_line masks
    counts = {OK: 0, FAIL: 0, SKIP: 0}
    for finding in findings:  # a generator: each line shows as soon as its check is done
        counts[finding.status] += 1
        # Names and messages in a finding are the cloud's text (terminal.py).
        print(shown_line(finding.line(), limit=FINDING_CHARS), file=out, flush=True)
    total = sum(counts.values())
    if counts[FAIL]:
        print(
            f"{counts[FAIL]} of {total} checks failed, {counts[SKIP]} skipped: fix the FAIL lines"
            " before switching delivery on",
            file=err,
        )
        return EXIT_FAILED
    skipped = f" ({counts[SKIP]} skipped)" if counts[SKIP] else ""
    print(f"all {counts[OK]} checks passed{skipped}", file=err)
    return EXIT_OK
