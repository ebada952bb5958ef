"""A Config answer of another shape than documented (a broken server, a proxy) fails that
rule's listing with a reason; it neither stops the other rules as an internal error nor reads
as a rule with nothing to fix."""

from __future__ import annotations

import json
from typing import Any

import pytest

from resource_repair.testing import OssBackend
from resource_repair.testing.config import ConfigBackend
from resource_repair.testing.config import mock as config_mock
from resource_repair.testing.config.wire import ConfigReply, handle_config_request
from tests import test_sweep
from tests.conftest import RULE_NAME
from tests.test_sweep import public_buckets, run_sweep

clouds, config, oss = test_sweep.clouds, test_sweep.config, test_sweep.oss
fresh_rule_cache = test_sweep.fresh_rule_cache
OTHER_RULE = "other-public-read-rule"


@pytest.mark.parametrize(
    "odd",
    [
        {"EvaluationResults": "x"},
        {"EvaluationResults": {"EvaluationResultList": 7}},
        {"EvaluationResults": {"EvaluationResultList": [], "NextToken": ["t"]}},
    ],
    ids=["results", "list", "token"],
)
def test_an_odd_listing_fails_its_rule_and_the_other_rule_is_swept(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch, odd: Any
) -> None:
    broken = config.add_rule(RULE_NAME)
    public_buckets(config, oss, broken, 2, prefix="first")
    other = config.add_rule(OTHER_RULE)
    names = public_buckets(config, oss, other, 2, prefix="second")

    def answer_oddly(backend: Any, method: str, url: str, body: Any) -> ConfigReply:
        reply = handle_config_request(backend, method, url, body)
        sent = f"{url}&{body.decode() if isinstance(body, bytes) else body}"
        if "Action=ListConfigRuleEvaluationResults" not in sent or broken.rule_id not in sent:
            return reply
        document = {**json.loads(reply.body), **odd}
        return ConfigReply(reply.status, reply.headers, json.dumps(document).encode())

    monkeypatch.setattr(config_mock, "handle_config_request", answer_oddly)
    monkeypatch.setenv("prepareRuleName", f"{RULE_NAME},{OTHER_RULE}")
    result = run_sweep()
    assert (result["status"], result["complete"]) == ("fail", False)
    assert "internal error" not in json.dumps(result)
    first, second = result["rules"]
    assert first["complete"] is False
    assert "not Config's answer as documented" in first["error"]
    assert second["complete"] is True
    assert all(oss.acl_of(n) == "private" for n in names)
