"""Whether Cloud Config's results for a bucket rule reach the function's topic: the rule's
resource scope, and the delivery channel's target and filter."""

from __future__ import annotations

import json
from typing import Any

from resource_repair.tools.doctor.answers import as_int, as_list, as_strings

BUCKET_TYPE = "ACS::OSS::Bucket"


def condition_problem(condition: Any, risk: int | None) -> tuple[str, str] | None:
    """Why the channel's filter (``DeliveryChannelCondition``, a JSON list of
    ``{filterType, value|values}``) would drop the rule's bucket results, and the remedy."""
    if not condition:
        return None
    try:
        filters = json.loads(str(condition))
    except ValueError:
        return None  # not ours to judge; Config accepted it
    for item in as_list(filters):
        if not isinstance(item, dict):
            continue
        kind = item.get("filterType")
        if kind == "ResourceType":
            values = as_strings(item.get("values"))
            if values and BUCKET_TYPE not in values:
                return (
                    f"filters to resource types that exclude {BUCKET_TYPE}",
                    f"add {BUCKET_TYPE} to the channel's resource types",
                )
        elif kind == "RuleRiskLevel" and risk is not None:
            floor = as_int(item.get("value"))
            if floor and risk > floor:
                return (
                    f"passes only risk levels 1..{floor} (1 = high); the rule's is {risk}",
                    f"lower the channel's minimum risk level to {risk}, or raise the rule's",
                )
    return None


def same_topic_arn(found: Any, wanted: str) -> bool:
    """MNS topic ARNs as Config and FC write them; Config's may end in ``/messages``."""
    text = str(found or "").strip().rstrip("/")
    return text.removesuffix("/messages") == wanted


def covers_buckets(scope: Any) -> bool:
    types = [t.strip() for t in str(scope or "").split(",") if t.strip()]
    return not types or BUCKET_TYPE in types
