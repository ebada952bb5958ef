"""What the deployed function needs from its role, and whether RAM policy statements grant
it."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from typing import Any

from resource_repair.errors import ConfigurationError
from resource_repair.notify_settings import FAILURE_TOPIC, REMEDIATION_TOPIC
from resource_repair.remediators.acl import AclRemediator
from resource_repair.settings import Settings
from resource_repair.tools.doctor.answers import as_list, as_mapping, as_strings

# The notifier publishes with this action when failureTopic or remediationTopic is set
# (resource_repair.notify declares no constant for it).
_PUBLISH_ACTION = "mns:PublishMessage"


def required_actions(environment: Mapping[str, str]) -> tuple[str, ...]:
    """The actions the deployed code calls with its role, as the code declares them: the
    OSS calls of the remediations these settings use, the sweep's Config reads, the read
    of Config's own call (config_remediation), and publishing when a notification topic
    is set."""
    from resource_repair import config_remediation
    from resource_repair.config_api import AGGREGATE_SWEEP_PERMISSIONS, SWEEP_PERMISSIONS
    from resource_repair.selection import required_actions as oss_actions
    from resource_repair.settings import CONFIG_AGGREGATOR_ID

    try:
        oss = sorted(oss_actions(Settings.from_env(environment)))
    except ConfigurationError:  # the settings check reports it; ask for the default fix's
        oss = list(AclRemediator.PERMISSIONS)
    actions = [*oss, *SWEEP_PERMISSIONS, *config_remediation.PERMISSIONS]
    if environment.get(CONFIG_AGGREGATOR_ID, "").strip():
        # The account group's results, and its rules looked up as the account's own are.
        actions += AGGREGATE_SWEEP_PERMISSIONS
        actions += config_remediation.AGGREGATE_PERMISSIONS
    if any(environment.get(v, "").strip() for v in (FAILURE_TOPIC, REMEDIATION_TOPIC)):
        actions.append(_PUBLISH_ACTION)
    return tuple(dict.fromkeys(actions))


def grants(statements: Sequence[Mapping[str, Any]], action: str, account: str | None) -> bool:
    """Whether RAM statements allow ``action`` on some resource of ``account``: an Allow
    that names it (wildcards too) on a resource of that account, and no Deny that names it.
    Conditions are not evaluated (a policy with conditions may still be narrower)."""
    allowed = False
    for statement in statements:
        effect = str(statement.get("Effect", "")).lower()
        if not _names_action(statement, action):
            continue
        if effect == "deny" and _resource_wildcard(statement):
            return False
        if effect == "allow" and _on_account(statement.get("Resource"), account):
            allowed = True
    return allowed


def _names_action(statement: Mapping[str, Any], action: str) -> bool:
    wanted = action.lower()
    if "NotAction" in statement:
        return not any(
            fnmatch.fnmatchcase(wanted, p.lower()) for p in as_strings(statement["NotAction"])
        )
    return any(fnmatch.fnmatchcase(wanted, p.lower()) for p in as_strings(statement.get("Action")))


def _resource_wildcard(statement: Mapping[str, Any]) -> bool:
    return any(r == "*" or r.endswith(":*") for r in as_strings(statement.get("Resource")))


def _on_account(resources: Any, account: str | None) -> bool:
    """A resource ARN ``acs:<service>:<region>:<account>:<path>`` in the caller's account
    (or any account): a policy copied from another account covers none of ours."""
    for resource in as_strings(resources):
        if resource == "*":
            return True
        fields = resource.split(":", 4)
        owner = fields[3] if len(fields) > 3 else "*"
        if owner in ("*", "") or owner == account:
            return True
    return False


def policy_statements(document: Any) -> list[Mapping[str, Any]]:
    statements = as_mapping(document).get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in as_list(statements) if isinstance(s, dict)]


def parse_document(text: Any) -> Any:
    if isinstance(text, dict):
        return text
    try:
        return json.loads(str(text or "{}"))
    except ValueError:
        return {}
