"""``resource-repair remote-invoke``: invoke the deployed function through FC's API, the
function named by a template or by the options."""

from __future__ import annotations

import argparse
import sys

from resource_repair.tools.commands.exits import UsageError
from resource_repair.tools.commands.options import (
    account_id,
    callers_account,
    credential_options,
    credentials,
    event_source,
    read_event,
    region,
)
from resource_repair.tools.template import DEFAULT_TEMPLATE

NAME = "remote-invoke"
HELP = "invoke the deployed function via the FC API"
FC3_TEMPLATE = "template.fc3.yml"
# The event function's names in both templates, for remote-invoke without one.
EVENT_SERVICE = "resource_repair"
EVENT_FUNCTION = "oss_repair_acl_trigger"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    event_source(parser)
    parser.add_argument(
        "-t",
        "--template",
        help=f"function, region and FC version from it: {DEFAULT_TEMPLATE} (FC 2.0) or"
        f" {FC3_TEMPLATE} (FC 3.0); none with --fc (default: {DEFAULT_TEMPLATE})",
    )
    parser.add_argument(
        "--fc",
        type=int,
        choices=(2, 3),
        help="the FC API without a template: 2 (aliyun-fc2) or 3 (alibabacloud-fc20230330);"
        " needs --region",
    )
    parser.add_argument(
        "--function", help=f"the function's name (default: the template's, else {EVENT_FUNCTION})"
    )
    parser.add_argument(
        "--service",
        help=f"FC 2.0's service (default: the template's, else {EVENT_SERVICE}); with --fc 3,"
        " reaches that FC 2.0 function through FC 3.0's API as <service>$<function>",
    )
    parser.add_argument(
        "--account-id", help="the function's account (default: yours, from STS GetCallerIdentity)"
    )
    parser.add_argument("--region", help="the function's region (default: the template's)")
    parser.add_argument("--qualifier", help="version or alias (default: LATEST)")
    parser.add_argument(
        "--async", dest="asynchronous", action="store_true", help="invoke asynchronously"
    )
    credential_options(parser)


def run(args: argparse.Namespace) -> int:
    from resource_repair.tools.remote import RemoteInvocation, remote_invoke

    account_id(args.account_id)
    event = read_event(args)
    fc_version, service, function, where, timeout = _remote_target(args)
    where = region(where, "--region")
    keys = credentials(args)
    invocation = RemoteInvocation(
        event=event,
        account_id=callers_account(args, keys),
        region=where,
        service=service,
        function=function,
        qualifier=args.qualifier,
        asynchronous=args.asynchronous,
        function_timeout=timeout,
        fc_version=fc_version,
    )
    return remote_invoke(invocation, keys, sys.stdout, sys.stderr)


def _remote_target(args: argparse.Namespace) -> tuple[int, str, str, str, int]:
    """FC version, service, function, region and timeout: from the template (its edition
    decides the API), or from --fc and the options without one."""
    from resource_repair.tools.template import load_template

    if args.template is None and args.fc is not None:
        if not args.region:
            raise UsageError("--region is needed when no template is given")
        fc, service, function = _fc_names(
            args.fc,
            args.service or (EVENT_SERVICE if args.fc == 2 else ""),
            args.function or EVENT_FUNCTION,
        )
        # The longer of the two functions' timeouts (the sweep's), for the read timeout.
        return fc, service, function, args.region, 600
    path = args.template or DEFAULT_TEMPLATE
    template = load_template(path, account_id=args.account_id, accept_fc3=True)
    if args.fc is not None and args.fc != template.fc_version:
        raise UsageError(f"--fc {args.fc}: {path} is an FC {template.fc_version}.0 template")
    fc, service, function = _fc_names(
        template.fc_version, args.service or template.service, args.function or template.function
    )
    return fc, service, function, args.region or template.region, template.timeout


def _fc_names(fc_version: int, service: str, function: str) -> tuple[int, str, str]:
    """FC 3.0 has no services: an FC 2.0 function is <service>$<function> in its API."""
    if fc_version == 3 and service and "$" not in function:
        return 3, "", f"{service}${function}"
    return fc_version, service, function
