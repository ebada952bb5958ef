"""Write Cloud Config non-compliance messages, in each delivery form, for local runs."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from resource_repair.delivery import FORMS

MANAGED_RULE = "oss-bucket-public-read-prohibited"


def non_compliance_message(
    bucket: str,
    region: str,
    rule_name: str,
    account_id: str,
    rule_id: str = "cr-0000000000000000demo",
    acl: str = "public-read",
) -> dict[str, Any]:
    """A current-generation message, shaped like Cloud Config's documented ones."""
    now = int(time.time() * 1000)
    return {
        "dataType": "NonCompliantNotification",
        "eventType": "ResourceCompliance",
        "eventName": "NonCompliant",
        "complianceType": "NON_COMPLIANT",
        "riskLevel": "Critical",
        "requestId": str(uuid.uuid4()),
        "accountId": int(account_id),
        "sourceIdentifier": MANAGED_RULE,
        "annotation": json.dumps(
            {
                "configuration": acl,
                "desiredValue": "read",
                "operator": "NotContains",
                "property": "$.AccessControlList.Grant",
            }
        ),
        "notificationCreationTime": now,
        "evaluationResultIdentifier": {
            "orderingTimestamp": now,
            "evaluationResultQualifier": {
                "resourceId": bucket,
                "resourceName": bucket,
                "resourceType": "ACS::OSS::Bucket",
                "regionId": region,
                "configRuleName": rule_name,
                "configRuleId": rule_id,
                "configRuleArn": f"acs:config::{account_id}:rule/{rule_id}",
                "resourceOwnerId": int(account_id),
            },
        },
    }


def wrap(message: dict[str, Any], form: str, topic: str = "SMQTestConfig") -> str:
    """The text the trigger would hand the function for ``message`` in ``form``."""
    if form not in FORMS:
        raise ValueError(f"form must be one of {', '.join(FORMS)}")
    text = json.dumps(message, ensure_ascii=False)
    body = base64.b64encode(text.encode()).decode()
    if form == "plain":
        return json.dumps(message, ensure_ascii=False, indent=2)
    if form == "stream":
        return body
    if form == "attrs":
        return json.dumps({"body": body, "attrs": {}}, indent=2)
    owner = str(message.get("accountId", ""))
    envelope = {
        "TopicOwner": owner,
        "TopicName": topic,
        "Subscriber": owner,
        "SubscriptionName": "resource-repair-local",
        "MessageId": uuid.uuid4().hex.upper(),
        "MessageMD5": "",
        "PublishTime": int(time.time() * 1000),
        "Message": body,
    }
    return json.dumps(envelope, indent=2)
