"""The ``resource-repair setup`` command: plan (reads only), --apply, --teardown; the
lines it prints and its exit code."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TextIO

from resource_repair.errors import ResourceRepairError
from resource_repair.redaction import protect_logs
from resource_repair.tools.doctor.findings import CheckError
from resource_repair.tools.setup.plan import CHANGES, CREATE, FAIL, Setup, Step
from resource_repair.tools.setup.request import SetupRequest, request_from_args
from resource_repair.tools.terminal import quiet_rpc_sdk_logs, shown_line

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# A step names a rule, a topic and a fix: longer than an error's line.
LINE_CHARS = 2000
_DONE = {CREATE: "made", "remove": "gone"}


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        request = request_from_args(args)
    except ResourceRepairError as exc:
        print(shown_line(f"resource-repair: error: {exc}"), file=err)
        return EXIT_USAGE
    protect_logs(request.credentials.secrets)  # what shown_line masks

    def say(line: str) -> None:
        # Rule names, topic names and the services' messages are the cloud's text.
        print(shown_line(line, limit=LINE_CHARS), file=out, flush=True)

    quiet_rpc_sdk_logs()
    try:
        setup = _connect(request)
    except ResourceRepairError as exc:
        print(shown_line(f"resource-repair: {exc}"), file=err)
        return EXIT_FAILED
    what = "teardown" if request.teardown else "setup"
    mode = "doing it" if request.apply else "plan only, nothing is changed"
    group = f", account group {setup.aggregator_id}" if setup.aggregator_id else ""
    where = f"account {setup.account}, {setup.region}{group}"
    say(f"{what} of {request.template_path} in {where} ({mode})")
    try:
        steps = _plan(setup)
    except ResourceRepairError as exc:  # one line whatever went wrong while reading
        print(shown_line(f"resource-repair: {exc}"), file=err)
        return EXIT_FAILED
    return _carry_out(steps, request, say)


def _connect(request: SetupRequest) -> Setup:
    from resource_repair.tools.caller import caller_identity

    identity = caller_identity(request.credentials, endpoint=request.sts_endpoint)
    return Setup(request, identity.account_id)


def _plan(setup: Setup) -> list[Step]:
    from resource_repair.tools.setup.delivery import plan_delivery
    from resource_repair.tools.setup.preconditions import check_preconditions
    from resource_repair.tools.setup.remediation import plan_remediations
    from resource_repair.tools.setup.rules import plan_rules
    from resource_repair.tools.setup.teardown import plan_teardown
    from resource_repair.tools.setup.topics import plan_topics

    if setup.request.teardown:
        return plan_teardown(setup)
    before = check_preconditions(setup)
    if any(step.kind == FAIL for step in before):
        return before  # nothing else is worth reading until these hold
    rules = plan_rules(setup)
    return [
        *before,
        *plan_topics(setup),
        *rules.steps,
        *plan_delivery(setup),
        *plan_remediations(setup, rules),
    ]


def _carry_out(steps: list[Step], request: SetupRequest, say: Callable[[str], None]) -> int:
    failed = [s for s in steps if s.kind == FAIL]
    changes = [s for s in steps if s.kind in CHANGES]
    if not request.apply or failed:
        for step in steps:
            say(step.line())
        if failed:
            tail = " nothing was changed." if request.apply else ""
            say(f"{len(failed)} thing(s) cannot be done: fix the FAIL lines.{tail}")
            return EXIT_FAILED
        if changes:
            say(f"{len(changes)} change(s) planned: run again with --apply to make them")
        else:
            say("nothing to change: everything is in place")
        return EXIT_OK
    made = 0
    for step in steps:
        if step.action is None:
            say(step.line())
            continue
        try:
            instead = step.action()
        except CheckError as exc:
            say(
                Step(
                    FAIL,
                    step.thing,
                    f"{step.text}: {exc}",
                    fix="run again to finish; what was made so far is kept and marked.",
                ).line()
            )
            say(f"stopped after {made} of {len(changes)} change(s)")
            return EXIT_FAILED
        made += 1
        done = "created" if step.kind == CREATE else "removed"
        say(Step(done, step.thing, instead or step.text).line())
    if not changes:
        say("nothing to change: everything is in place")
    else:
        say(f"done: {made} change(s)")
    return EXIT_OK
