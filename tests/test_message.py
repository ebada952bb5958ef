"""Classifying Cloud Config messages of every kind and generation."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from resource_repair.errors import InvalidEventError
from resource_repair.message import IgnoredMessage, NonComplianceEvent, classify_message
from tests.conftest import BUCKET, EVENTS, REGION, RULE_ID, RULE_NAME


def message(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def test_older_generation_non_compliance_is_read_field_by_field() -> None:
    raw = message("noncompliance-oss-plain.json")
    event = classify_message(raw)
    qualifier = raw["evaluationResultIdentifier"]["evaluationResultQualifier"]
    assert isinstance(event, NonComplianceEvent)
    assert event.bucket == qualifier["resourceId"] == BUCKET
    assert event.region_id == qualifier["regionId"] == REGION
    assert event.rule_name == RULE_NAME
    assert event.rule_id == RULE_ID
    assert event.source_identifier is None
    assert event.owner_account_id == str(qualifier["resourceOwnerId"])
    assert event.annotation is not None
    assert event.annotation["configuration"] == "public-read"


def test_current_generation_with_string_ids_and_object_annotation() -> None:
    event = classify_message(message("noncompliance-oss-current-plain.json"))
    assert isinstance(event, NonComplianceEvent)
    assert event.source_identifier == "oss-bucket-public-read-prohibited"
    assert event.owner_account_id == "1698272328540001"
    assert event.annotation == {
        "configuration": "public-read",
        "desiredValue": "read",
        "operator": "NotContains",
        "property": "$.AccessControlList.Grant",
    }
    assert event.rule_references == (RULE_NAME, RULE_ID, "oss-bucket-public-read-prohibited")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("change-notification-oss-plain.json", "dataType 'ConfigurationItemChangeNotification'"),
        ("change-notification-oss-legacy-plain.json", "configuration change notification"),
        ("snapshot-delivery-success-plain.json", "eventType 'SnapshotDelivery'"),
        ("noncompliance-ecs-current-plain.json", "'ACS::ECS::Instance' is not an OSS bucket"),
        ("compliant-oss-plain.json", "complianceType is 'COMPLIANT'"),
    ],
)
def test_other_messages_are_ignored_with_a_reason(name: str, reason: str) -> None:
    result = classify_message(message(name))
    assert isinstance(result, IgnoredMessage)
    assert reason in result.reason


def test_a_message_with_nothing_recognisable_is_ignored() -> None:
    result = classify_message({"hello": "world"})
    assert isinstance(result, IgnoredMessage)


def test_resource_type_may_be_absent() -> None:
    raw = message("noncompliance-oss-plain.json")
    del raw["evaluationResultIdentifier"]["evaluationResultQualifier"]["resourceType"]
    assert isinstance(classify_message(raw), NonComplianceEvent)


def _with_qualifier(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(message("noncompliance-oss-plain.json"))
    raw["evaluationResultIdentifier"]["evaluationResultQualifier"].update(changes)
    return raw


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"resourceId": ["a"]}, "resourceId has type list"),
        ({"resourceId": ""}, "resourceId is missing"),
        ({"regionId": None}, "regionId is missing"),
        ({"regionId": True}, "regionId has type bool"),
        ({"resourceOwnerId": "12ab"}, "is not an account id"),
        ({"resourceOwnerId": "١٢٣"}, "is not an account id"),
        ({"configRuleName": {"x": 1}}, "configRuleName has type dict"),
    ],
)
def test_malformed_non_compliance_results_are_invalid(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidEventError, match=reason):
        classify_message(_with_qualifier(**changes))


def test_identifier_that_is_not_an_object_is_invalid() -> None:
    with pytest.raises(InvalidEventError, match="evaluationResultIdentifier is not an object"):
        classify_message(message("hostile-identifier-not-object-plain.json"))


def test_numeric_ids_become_text_and_float_account_ids_are_tolerated() -> None:
    event = classify_message(_with_qualifier(resourceOwnerId=1.698272328540001e15))
    assert isinstance(event, NonComplianceEvent)
    assert event.owner_account_id == "1698272328540001"


def test_unparseable_annotation_is_not_fatal() -> None:
    raw = message("noncompliance-oss-plain.json")
    raw["annotation"] = "{not json"
    event = classify_message(raw)
    assert isinstance(event, NonComplianceEvent)
    assert event.annotation is None
