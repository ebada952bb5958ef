"""What must hold before setup creates anything: Config activated, its service-linked role
in place (Config delivers and evaluates through it), SMQ activated."""

from __future__ import annotations

from resource_repair.tools.doctor.answers import as_mapping
from resource_repair.tools.doctor.findings import CheckError
from resource_repair.tools.setup.plan import FAIL, FOUND, Setup, Step

SERVICE_LINKED_ROLE = "AliyunServiceRoleForConfig"
# Config's recorder status once the service is activated.
_ACTIVE = "REGISTERED"
_NETWORK_FIX = "check the network (or a proxy) and run again."


def check_preconditions(setup: Setup) -> list[Step]:
    """One line each; a FAIL stops setup before its plan."""
    return [_config(setup), _role(setup), _smq(setup)]


def _config(setup: Setup) -> Step:
    try:
        answer = setup.config.call("GetConfigurationRecorder", {})
    except CheckError as exc:
        return Step(FAIL, "config", str(exc), fix=_fix(exc, "config:GetConfigurationRecorder"))
    recorder = as_mapping(answer.get("ConfigurationRecorder"))
    status = str(recorder.get("ConfigurationRecorderStatus") or "")
    if status != _ACTIVE:
        return Step(
            FAIL,
            "config",
            f"Cloud Config is not activated (recorder {status or 'absent'}).",
            fix="activate it in the Cloud Config console (it creates"
            f" {SERVICE_LINKED_ROLE}), then run again.",
        )
    return Step(FOUND, "config", "Cloud Config is activated")


def _role(setup: Setup) -> Step:
    try:
        setup.ram.call("GetRole", {"RoleName": SERVICE_LINKED_ROLE})
    except CheckError as exc:
        if exc.code == "EntityNotExist.Role":
            return Step(
                FAIL,
                "config",
                f"Config's service-linked role {SERVICE_LINKED_ROLE} does not exist: Config"
                " cannot deliver or evaluate without it.",
                fix="aliyun resourcemanager CreateServiceLinkedRole --ServiceName"
                " config.aliyuncs.com (or activate Config again in its console).",
            )
        return Step(FAIL, "config", str(exc), fix=_fix(exc, "ram:GetRole"))
    return Step(FOUND, "config", f"service-linked role {SERVICE_LINKED_ROLE}")


def _smq(setup: Setup) -> Step:
    topic = setup.request.topic
    try:
        setup.smq.topic_exists(topic)
    except CheckError as exc:
        if exc.code == "AccessDenied":
            return Step(
                FAIL,
                "smq",
                f"SMQ refused the account ({exc}): SMQ is not activated, or the key may not"
                " use it.",
                fix="activate Simple Message Queue (formerly MNS) in its console, or give the"
                " key mns:GetTopicAttributes, mns:CreateTopic and mns:Subscribe.",
            )
        return Step(FAIL, "smq", str(exc), fix=_fix(exc, "mns:GetTopicAttributes"))
    return Step(FOUND, "smq", f"SMQ is activated in {setup.region}")


def _fix(exc: CheckError, action: str) -> str:
    if exc.code == "network":
        return _NETWORK_FIX
    if exc.status == 403 or "denied" in exc.code.lower() or "permission" in exc.code.lower():
        return f"give the caller {action} (docs/deploying.md, setup's permissions)."
    return "run again later."
