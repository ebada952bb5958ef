"""Cloud Config's API (2020-09-07) through aliyunsdkcore: find a rule, stream its
non-compliant buckets page by page, start a re-evaluation."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
from aliyunsdkcore.auth.credentials import AccessKeyCredential, StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

from resource_repair.credentials import Credentials
from resource_repair.errors import ResourceRepairError, TransientError
from resource_repair.message import BUCKET_RESOURCE_TYPE, NonComplianceEvent
from resource_repair.redaction import protect_logs
from resource_repair.retry import Deadline, RetryPolicy

VERSION = "2020-09-07"
SITES = {"china": "cn-shanghai", "international": "ap-southeast-1"}
PAGE_SIZE = 100
_THROTTLING = ("ServiceUnavailable", "Throttling", "Throttling.User", "Throttling.Api")


class ConfigApiError(ResourceRepairError):
    """Config refused a request for a reason a retry will not change."""


class TransientConfigError(ConfigApiError, TransientError):
    """Config is throttling or unavailable; retried with backoff."""


class ConfigClient:
    def __init__(
        self,
        credentials: Credentials,
        site: str,
        *,
        endpoint: str | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        """``endpoint`` (``127.0.0.1:port``) is for a fake Config API served locally."""
        region = SITES[site]
        self._domain = endpoint or f"config.{region}.aliyuncs.com"
        self._protocol = "http" if endpoint else "https"  # CommonRequest defaults to plain HTTP
        self._policy = policy or RetryPolicy(
            max_attempts=5, base_delay=0.5, max_delay=8.0, request_timeout=10.0
        )
        protect_logs(credentials.secrets)
        credential: Any = (
            StsTokenCredential(
                credentials.access_key_id, credentials.access_key_secret, credentials.security_token
            )
            if credentials.security_token
            else AccessKeyCredential(credentials.access_key_id, credentials.access_key_secret)
        )
        # The SDK picks its signer once, here, and ALIYUN_ACCESS_KEY_ID/_SECRET in the
        # environment would silently win over the credentials chosen above.
        with _without("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET"):
            self._client = AcsClient(
                region_id=region,
                credential=credential,
                auto_retry=False,
                timeout=10,
                connect_timeout=5,
            )

    def rule_id_by_name(self, name: str) -> str:
        """The id of the one rule whose name is exactly ``name``."""
        matches: list[str] = []
        page = 1
        while True:
            rules = self._call(
                "ListConfigRules",
                {"ConfigRuleName": name, "PageNumber": page, "PageSize": PAGE_SIZE},
            )
            listing = rules.get("ConfigRules") or {}
            found = listing.get("ConfigRuleList") or []
            matches += [r["ConfigRuleId"] for r in found if r.get("ConfigRuleName") == name]
            if not found or page * PAGE_SIZE >= int(listing.get("TotalCount") or 0):
                break
            page += 1
        if not matches:
            raise ConfigApiError(f"no Config rule is named {name!r}")
        if len(matches) > 1:
            raise ConfigApiError(
                f"{len(matches)} rules are named {name!r} ({', '.join(matches)}): use --rule-id"
            )
        return matches[0]

    def non_compliant_buckets(
        self, rule_id: str, *, regions: Sequence[str] = (), aggregator_id: str | None = None
    ) -> Iterator[NonComplianceEvent]:
        """Every NON_COMPLIANT bucket of the rule, one page in memory at a time."""
        action = (
            "ListAggregateConfigRuleEvaluationResults"
            if aggregator_id
            else "ListConfigRuleEvaluationResults"
        )
        params: dict[str, Any] = {
            "ConfigRuleId": rule_id,
            "ComplianceType": "NON_COMPLIANT",
            "ResourceTypes": BUCKET_RESOURCE_TYPE,
            "MaxResults": PAGE_SIZE,
        }
        if aggregator_id:
            params["AggregatorId"] = aggregator_id
        if regions:
            params["Regions"] = ",".join(regions)
        token = ""
        while True:
            page = self._call(action, {**params, **({"NextToken": token} if token else {})})
            results = page.get("EvaluationResults") or {}
            for item in results.get("EvaluationResultList") or []:
                event = _as_event(item)
                if event is not None and (not regions or event.region_id in regions):
                    yield event
            token = results.get("NextToken") or ""  # the last page's may be absent or empty
            if not token:
                return

    def start_evaluation(self, rule_id: str) -> None:
        self._call("StartConfigRuleEvaluation", {"ConfigRuleId": rule_id})

    def _call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._policy.call(lambda: self._once(action, params), Deadline(600))

    def _once(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        request = CommonRequest(domain=self._domain, version=VERSION, action_name=action)
        request.set_protocol_type(self._protocol)
        request.set_method("POST")
        for key, value in params.items():
            request.add_query_param(key, str(value))
        try:
            body = self._client.do_action_with_exception(request)
        except ServerException as exc:
            code, status = exc.get_error_code(), exc.get_http_status()
            request_id = exc.get_request_id()
            text = f"{action}: {code} (HTTP {status}, request {request_id}): {exc.get_error_msg()}"
            if status >= 500 or code in _THROTTLING:
                raise TransientConfigError(text) from None
            raise ConfigApiError(text) from None
        except ClientException as exc:
            if exc.get_error_code() in ("SDK.HttpError", "SDK.TimeoutError"):
                raise TransientConfigError(f"{action}: {exc.get_error_msg()}") from None
            raise ConfigApiError(
                f"{action}: {exc.get_error_code()} {exc.get_error_msg()}"
            ) from None
        document = json.loads(body)
        return document if isinstance(document, dict) else {}


def _as_event(item: Any) -> NonComplianceEvent | None:
    """An evaluation result as the same NonComplianceEvent the function acts on."""
    try:
        qualifier = item["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
        owner = qualifier.get("ResourceOwnerId")
        return NonComplianceEvent(
            resource_id=str(qualifier["ResourceId"]),
            region_id=str(qualifier["RegionId"]),
            resource_type=qualifier.get("ResourceType"),
            rule_name=qualifier.get("ConfigRuleName"),
            rule_id=qualifier.get("ConfigRuleId"),
            source_identifier=None,
            owner_account_id=str(owner) if owner not in (None, "") else None,
            annotation=None,
        )
    except (KeyError, TypeError):
        return None


@contextlib.contextmanager
def _without(*names: str) -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)
