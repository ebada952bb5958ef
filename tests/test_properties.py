"""Properties that hold for every delivery a topic could carry, hostile ones included.

Run with HYPOTHESIS_PROFILE=deep (``make test-deep``) for many more examples.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as event_outcome
from hypothesis import strategies as st

import index
from resource_repair.report import Outcome
from resource_repair.testing import fc_context, mock_oss
from tests.conftest import BUCKET, REGION, RESULT_KEYS
from tests.strategies import deliveries


@pytest.mark.usefixtures("function_env", "waits")
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    delivery=deliveries(),
    acl=st.sampled_from(["private", "public-read", "public-read-write"]),
    runtime=st.sampled_from(["python3.10", "python3.12"]),
)
def test_any_delivery_is_handled_safely(
    delivery: tuple[bytes, dict[str, Any] | None],
    acl: str,
    runtime: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event, message = delivery
    if runtime == "python3.12":
        from resource_repair.testing import fc_environment

        for key, value in fc_environment().items():
            monkeypatch.setenv(key, value)
    with mock_oss() as oss:
        oss.create_bucket(BUCKET, REGION, acl)
        oss.create_bucket("other-bucket", "cn-hangzhou", "public-read")
        before = oss.snapshot()

        raw = index.handler(event, fc_context(runtime))  # never raises: healthy OSS, any input

        result = json.loads(raw)
        assert set(result) == RESULT_KEYS
        assert result["status"] == Outcome(result["outcome"]).status
        event_outcome(result["outcome"])
        calls = oss.calls
        hosts = {urlsplit(url).hostname for url in [c.url for c in calls] + oss.refused}
        if hosts:
            # Only the message's bucket, at its region's own OSS endpoint, over HTTPS.
            assert message is not None
            qualifier = message["evaluationResultIdentifier"]["evaluationResultQualifier"]
            own = f"{qualifier['resourceId']}.oss-{qualifier['regionId']}"
            assert hosts <= {f"{own}.aliyuncs.com", f"{own}-internal.aliyuncs.com"}
            assert all(url.startswith("https://") for url in [c.url for c in calls] + oss.refused)
        for position, call in enumerate(calls):
            if call.operation == "PutBucketAcl":
                assert call.acl_header == "private"  # nothing but private is ever written
                assert any(c.operation == "GetBucketInfo" for c in calls[:position])  # read first
            else:
                assert call.operation == "GetBucketInfo"
        # No bucket created; the only change ever made is the message's bucket made private.
        after = oss.snapshot()
        assert set(after) == set(before)
        for name, state in after.items():
            if state != before[name]:
                assert {k for k in state if state[k] != before[name][k]} == {"acl"}
                assert (before[name]["acl"], state["acl"]) != ("private", "private")
                assert state["acl"] == "private"
                assert name == result["bucket"]
