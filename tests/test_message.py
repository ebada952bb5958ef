"""Classifying Cloud Config messages of every kind and generation."""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any

import pytest

from resource_repair.errors import InvalidEventError
from resource_repair.message import (
    IgnoredMessage,
    NonComplianceEvent,
    classify_message,
    evaluation_time,
)
from resource_repair.report import MAX_RULE_CHARS, Outcome, Report
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


@pytest.mark.parametrize("compliance", ["NOT_APPLICABLE", "INSUFFICIENT_DATA", "IGNORED"])
def test_a_result_that_is_not_non_compliant_is_ignored(compliance: str) -> None:
    # Config's other compliance types: a bucket it could not judge is no public bucket.
    result = classify_message(
        {**message("noncompliance-oss-current-plain.json"), "complianceType": compliance}
    )
    assert isinstance(result, IgnoredMessage)
    assert f"complianceType is {compliance!r}" in result.reason


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


def _utc(*parts: int) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=datetime.timezone.utc)


RECORDED = _utc(2020, 7, 22, 12, 3, 16, 740000)  # resultRecordedTimestamp of the samples


@pytest.mark.parametrize(
    "name",
    [
        "noncompliance-oss-plain.json",  # older generation: no captureTime
        "noncompliance-oss-current-plain.json",  # current generation: captureTime too
        "noncompliance-oss-localized-rule-name-plain.json",
    ],
)
def test_every_generation_is_dated_by_its_latest_evaluation_timestamp(name: str) -> None:
    event = classify_message(message(name))
    assert isinstance(event, NonComplianceEvent)
    assert event.evaluated_at == RECORDED


def test_a_message_with_only_an_ordering_timestamp_is_dated_by_it() -> None:
    raw = message("noncompliance-oss-plain.json")
    del raw["resultRecordedTimestamp"], raw["configRuleInvokedTimestamp"]
    event = classify_message(raw)
    assert isinstance(event, NonComplianceEvent)
    assert event.evaluated_at == _utc(2020, 7, 22, 12, 3, 12, 92000)


@pytest.mark.parametrize(
    "bad", [None, "", "soon", True, -1, 0, 10**30, 1.5, float("nan"), [1], {"t": 1}, "١٢٣"]
)
def test_unusable_timestamps_are_ignored_not_fatal(bad: object) -> None:
    raw = message("noncompliance-oss-plain.json")
    for key in ("resultRecordedTimestamp", "configRuleInvokedTimestamp"):
        raw[key] = bad
    raw["evaluationResultIdentifier"]["orderingTimestamp"] = bad
    event = classify_message(raw)
    assert isinstance(event, NonComplianceEvent)
    assert event.evaluated_at is None


def test_evaluation_time_takes_the_config_apis_fields_too() -> None:
    """What the sweep passes: OrderingTimestamp, ConfigRuleInvokedTimestamp and
    ResultRecordedTimestamp of one result, numbers or digit strings, any of them missing."""
    assert evaluation_time(1_700_000_000_000, None, "1700000001000") == _utc(
        2023, 11, 14, 22, 13, 21
    )
    assert evaluation_time() is None
    assert evaluation_time(None, "x") is None


def test_a_huge_rule_name_is_bounded_wherever_the_event_or_report_is_made() -> None:
    """80,000 characters of rule name, matched by the rule id: the label, and so every result
    and audit line built from it, stays short; matching still sees the whole name."""
    long_name = "\u89c4" * 80_000
    event = classify_message(_with_qualifier(configRuleName=long_name))
    assert isinstance(event, NonComplianceEvent)
    assert event.rule_references[0] == long_name
    label = event.rule_label
    assert label is not None
    assert len(label) == MAX_RULE_CHARS
    assert label.endswith("...")
    report = Report(Outcome.REMEDIATED, "changed", rule=long_name)
    assert report.rule == label
    assert len(report.to_json()) < 3_000
    assert Report(Outcome.REMEDIATED, "changed", rule="short").rule == "short"


def test_a_huge_integer_inside_the_annotation_string_is_not_fatal() -> None:
    """The annotation is JSON inside a string, parsed apart from the delivery: an integer
    Python will not convert there only costs the annotation."""
    raw = message("noncompliance-oss-plain.json")
    raw["annotation"] = '{"configuration": ' + "9" * 5000 + "}"
    event = classify_message(raw)
    assert isinstance(event, NonComplianceEvent)
    assert event.annotation is None
