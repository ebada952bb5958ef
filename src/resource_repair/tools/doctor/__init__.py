"""``resource-repair doctor``: check, with the caller's own credentials, that everything the
function depends on is in place before Cloud Config's delivery is switched on.

Each check prints one line, ``ok``, ``FAIL`` or ``skip``, with what it found and, when it
fails, what to do. A check that needs what an earlier one could not establish (the account,
the deployed service) is skipped with the reason. Nothing is changed anywhere: every call
is a read (STS GetCallerIdentity, Config ListConfigRules / ListConfigDeliveryChannels, MNS
GetTopicAttributes, FC GetService / GetFunction / GetTrigger, RAM ListPoliciesForRole /
GetPolicy / GetPolicyVersion).

RPC APIs go through aliyunsdkcore, FC through aliyun-fc2, MNS through aliyun-mns-sdk. A
failure to reach a service or a refusal is that check's one line, never a traceback.
"""

# The package's parts, each under its own concern: plan.py (what the user asked for),
# checks.py and deployed.py (the checks), findings.py (their lines), policy.py (what a RAM
# policy grants), delivery.py (Config's delivery filters), transports.py (RPC, FC, MNS).
from resource_repair.tools.doctor.checks import Doctor
from resource_repair.tools.doctor.command import add_arguments, run
from resource_repair.tools.doctor.findings import CheckError, Finding
from resource_repair.tools.doctor.plan import SITE_NAMES
from resource_repair.tools.doctor.policy import grants, required_actions
from resource_repair.tools.doctor.transports import get_topic_attributes

__all__ = [
    "SITE_NAMES",
    "CheckError",
    "Doctor",
    "Finding",
    "add_arguments",
    "get_topic_attributes",
    "grants",
    "required_actions",
    "run",
]
