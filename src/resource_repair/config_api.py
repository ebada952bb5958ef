"""Cloud Config's API (2020-09-07) through aliyunsdkcore: find rules, stream a rule's
non-compliant buckets page by page, start a re-evaluation.

Used by the sweep function (``index.sweep``) and by ``resource-repair backfill``. Every
request is bounded by the caller's :class:`~resource_repair.retry.Deadline`: none starts
when the time left could not hold it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException

from resource_repair.credentials import Credentials
from resource_repair.errors import THROTTLING_CODES, ResourceRepairError, TransientError
from resource_repair.message import BUCKET_RESOURCE_TYPE, NonComplianceEvent, evaluation_time
from resource_repair.retry import SHORTEST_ATTEMPT, Deadline, RetryPolicy
from resource_repair.rpc import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    acs_client,
    names_no_host,
    network_reason,
    read_answer,
    rpc_request,
    send,
    server_message,
)

VERSION = "2020-09-07"
SITES = {"china": "cn-shanghai", "international": "ap-southeast-1"}
PAGE_SIZE = 100
# The SDK's own socket timeouts; one request never takes longer than their sum.
_REQUEST_SECONDS = float(CONNECT_TIMEOUT + READ_TIMEOUT)

# The Config actions the sweep function calls with the service role. The template's role
# grants exactly these (beside AclRemediator.PERMISSIONS); a test keeps the two in step.
SWEEP_PERMISSIONS = ("config:ListConfigRules", "config:ListConfigRuleEvaluationResults")
# ... and, with configAggregatorId, the account group's results and rules too.
AGGREGATE_SWEEP_PERMISSIONS = (
    "config:ListAggregateConfigRuleEvaluationResults",
    "config:ListAggregateConfigRules",
    "config:GetAggregateConfigRule",
)
# Pages in a row that may bring no result not already listed before the listing is taken
# for a loop (Config may return an empty page with a token; never many).
_FRUITLESS_PAGES = 3
# The pages of one resource's results read at most (resource_non_compliance).
_RESOURCE_PAGES = 5


class ConfigApiError(ResourceRepairError):
    """Config refused a request for a reason a retry will not change."""


class TransientConfigError(ConfigApiError, TransientError):
    """Config is throttling or unavailable; retried with backoff."""


class ConfigOutOfTimeError(ConfigApiError):
    """The time left cannot hold another Config request; nothing was sent."""


class ConfigPaginationError(ConfigApiError):
    """A listing that does not move on: a NextToken seen before, or pages with nothing new.
    Following it would request the same pages until the time runs out (or forever)."""


@dataclasses.dataclass(frozen=True)
class ConfigRule:
    rule_id: str
    name: str
    source_identifier: str


def site_for_region(region: str | None) -> str:
    """The Config site an account in ``region`` most likely belongs to: China regions
    (``cn-*``) -> ``china``, anything else -> ``international``. A guess, so the sweep
    lets a setting override it (an international account may run in a China region)."""
    return "china" if (region or "").startswith("cn-") else "international"


class ConfigClient:
    def __init__(
        self,
        credentials: Credentials,
        site: str,
        *,
        endpoint: str | None = None,
        policy: RetryPolicy | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        """``endpoint`` (``127.0.0.1:port``) is for a fake Config API served locally.
        ``deadline`` bounds every request and retry (default: ten minutes per request)."""
        region = SITES[site]
        self._domain = endpoint or f"config.{region}.aliyuncs.com"
        self._http = bool(endpoint)  # a local fake; OSS's and Config's own are HTTPS only
        self._policy = policy or RetryPolicy(
            max_attempts=5, base_delay=0.5, max_delay=8.0, request_timeout=_REQUEST_SECONDS
        )
        self._deadline = deadline
        self._client = acs_client(credentials, region)

    @property
    def domain(self) -> str:
        return self._domain

    def rules(self, aggregator_id: str | None = None) -> Iterator[ConfigRule]:
        """Every Config rule of the account, page by page; with ``aggregator_id``, every
        rule of that account group (ListAggregateConfigRules), as the account's own are."""
        return self._rule_pages(aggregator_id, {})

    def aggregate_rule(self, aggregator_id: str, rule_id: str) -> ConfigRule:
        """One rule of an account group, with the managed rule it is built on
        (GetAggregateConfigRule: ``ConfigRule.Source.Identifier``)."""
        answer = self._call(
            "GetAggregateConfigRule", {"AggregatorId": aggregator_id, "ConfigRuleId": rule_id}
        )
        item = answer.get("ConfigRule")
        if not isinstance(item, dict):
            raise ConfigApiError(f"GetAggregateConfigRule: no rule {rule_id} in the answer")
        source = item.get("Source")
        identifier = source.get("Identifier") if isinstance(source, dict) else None
        rule = _as_rule({**item, "SourceIdentifier": identifier})
        if rule is None:
            raise ConfigApiError(f"GetAggregateConfigRule: no rule {rule_id} in the answer")
        return rule

    def rule_id_by_name(self, name: str, aggregator_id: str | None = None) -> str:
        """The id of the one rule whose name is exactly ``name`` (of the account group
        ``aggregator_id``, when given)."""
        found = self._rule_pages(aggregator_id, {"ConfigRuleName": name})
        matches = [rule.rule_id for rule in found if rule.name == name]
        if not matches:
            raise ConfigApiError(f"no Config rule is named {name!r}")
        if len(matches) > 1:
            raise ConfigApiError(
                f"{len(matches)} rules are named {name!r} ({', '.join(matches)}): use --rule-id"
            )
        return matches[0]

    def _rule_pages(
        self, aggregator_id: str | None, params: dict[str, Any]
    ) -> Iterator[ConfigRule]:
        """ListConfigRules (or ListAggregateConfigRules) page by page, each rule once; a
        page of rules all listed already ends it with ConfigPaginationError."""
        action, scope = "ListConfigRules", dict(params)
        if aggregator_id:
            action = "ListAggregateConfigRules"
            scope["AggregatorId"] = aggregator_id
        seen: set[str] = set()
        page = 1
        while True:
            answer = self._call(action, {**scope, "PageNumber": page, "PageSize": PAGE_SIZE})
            listing = _field(answer, "ConfigRules", dict, action)
            found = _field(listing, "ConfigRuleList", list, action)
            new = 0
            for item in found:
                rule = _as_rule(item)
                if rule is not None and rule.rule_id not in seen:
                    seen.add(rule.rule_id)
                    new += 1
                    yield rule
            if not found or page * PAGE_SIZE >= _count(listing.get("TotalCount")):
                return
            if not new:
                raise ConfigPaginationError(
                    f"{action}: page {page} repeated rules listed before: the listing stopped"
                )
            page += 1

    def non_compliant_buckets(
        self, rule_id: str, *, regions: Sequence[str] = (), aggregator_id: str | None = None
    ) -> Iterator[NonComplianceEvent]:
        """Every NON_COMPLIANT bucket of the rule, each once, one page in memory at a time.

        Raises ConfigPaginationError when the listing stops moving on (a NextToken seen
        before, or several pages in a row with no result not listed already): the buckets
        yielded so far stand, and the rest of the rule's listing is reported as failed."""
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
        tokens: set[str] = set()
        listed: set[tuple[str, str, str | None]] = set()
        fruitless = 0
        while True:
            page = self._call(action, {**params, **({"NextToken": token} if token else {})})
            results = _field(page, "EvaluationResults", dict, action)
            new = 0
            for item in _field(results, "EvaluationResultList", list, action):
                event = _as_event(item)
                if event is None:
                    continue
                key = (event.resource_id, event.region_id, event.owner_account_id)
                if key in listed:
                    continue  # listed on an earlier page: examined once per listing
                listed.add(key)
                new += 1
                if not regions or event.region_id in regions:
                    yield event
            # The last page's may be absent or empty.
            token = _field(results, "NextToken", str, action)
            if not token:
                return
            fruitless = 0 if new else fruitless + 1
            if token in tokens:
                raise ConfigPaginationError(
                    f"{action}: Config returned a NextToken it had returned before, after"
                    f" {len(listed)} results: the listing stopped there"
                )
            if fruitless >= _FRUITLESS_PAGES:
                raise ConfigPaginationError(
                    f"{action}: {fruitless} pages in a row brought no new result, after"
                    f" {len(listed)} results: the listing stopped there"
                )
            tokens.add(token)

    def start_evaluation(self, rule_id: str) -> None:
        self._call("StartConfigRuleEvaluation", {"ConfigRuleId": rule_id})

    def resource_non_compliance(
        self,
        resource_id: str,
        region: str,
        *,
        aggregator_id: str | None = None,
        account_id: str | None = None,
    ) -> list[NonComplianceEvent]:
        """One bucket's NON_COMPLIANT results under every rule (ListResourceEvaluationResults;
        an account group's: ListAggregateResourceEvaluationResults, the bucket's account).
        Config's own word, which config_remediation.py asks for before acting on a payload.
        At most a few pages: a bucket has a result per rule, not thousands."""
        params: dict[str, Any] = {
            "ResourceId": resource_id,
            "ResourceType": BUCKET_RESOURCE_TYPE,
            "Region": region,
            "ComplianceType": "NON_COMPLIANT",
            "MaxResults": PAGE_SIZE,
        }
        action = "ListResourceEvaluationResults"
        if aggregator_id:
            action = "ListAggregateResourceEvaluationResults"
            params["AggregatorId"] = aggregator_id
            if account_id:
                params["ResourceAccountId"] = account_id
        found: list[NonComplianceEvent] = []
        token = ""
        for _ in range(_RESOURCE_PAGES):
            page = self._call(action, {**params, **({"NextToken": token} if token else {})})
            results = _field(page, "EvaluationResults", dict, action)
            for item in _field(results, "EvaluationResultList", list, action):
                if isinstance(item, dict) and item.get("ComplianceType") == "NON_COMPLIANT":
                    event = _as_event(item)
                    if event is not None:
                        found.append(event)
            token = _field(results, "NextToken", str, action)
            if not token:
                break
        return found

    def _call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        deadline = self._deadline or Deadline(600)
        if deadline.remaining() < _REQUEST_SECONDS:
            raise ConfigOutOfTimeError(f"{action}: no time left for another request")
        return self._policy.call(lambda: self._once(action, params, deadline), deadline)

    def _once(self, action: str, params: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
        # One request ends within the time it may take and the time left, whatever the
        # server does (a trickled answer included): rpc.send keeps that limit from outside.
        seconds = deadline.cut(_REQUEST_SECONDS)
        if seconds < SHORTEST_ATTEMPT:
            raise ConfigOutOfTimeError(f"{action}: no time left for another request")
        request = rpc_request(self._domain, VERSION, action, params, http=self._http)
        try:
            body = send(self._client, request, seconds)
        except ServerException as exc:
            code, status = exc.get_error_code(), exc.get_http_status()
            request_id = exc.get_request_id()
            message = server_message(exc.get_error_msg())
            text = f"{action}: {code} (HTTP {status}, request {request_id}): {message}"
            if status >= 500 or code in THROTTLING_CODES:
                error = TransientConfigError(text)
                error.throttled = status in (429, 503) or code in THROTTLING_CODES
                raise error from None
            raise ConfigApiError(text) from None
        except ClientException as exc:
            if exc.get_error_code() in ("SDK.HttpError", "SDK.TimeoutError"):
                # Never the SDK's own text: it quotes the signed URL, token included.
                reason = network_reason(exc.get_error_msg())
                text = f"{action}: cannot reach {self._domain}: {reason}"
                if names_no_host(exc.get_error_msg()):
                    # DNS says the host does not exist: no retry changes that (a passing
                    # resolver failure, EAI_AGAIN, is retried as any broken connection).
                    raise ConfigApiError(f"{text} (EndpointNotFound)") from None
                raise TransientConfigError(text) from None
            raise ConfigApiError(
                f"{action}: {exc.get_error_code()} {server_message(exc.get_error_msg())}"
            ) from None
        try:
            document = read_answer(body)
        except ValueError as exc:
            raise ConfigApiError(f"{action}: {exc}") from None
        return document if isinstance(document, dict) else {}


def _as_rule(item: Any) -> ConfigRule | None:
    if not isinstance(item, dict):
        return None
    rule_id, name = item.get("ConfigRuleId"), item.get("ConfigRuleName")
    if not isinstance(rule_id, str) or not rule_id:
        return None
    source = item.get("SourceIdentifier")
    return ConfigRule(
        rule_id, name if isinstance(name, str) else "", source if isinstance(source, str) else ""
    )


def _as_event(item: Any) -> NonComplianceEvent | None:
    """An evaluation result as the same NonComplianceEvent the function acts on."""
    try:
        identifier = item["EvaluationResultIdentifier"]
        qualifier = identifier["EvaluationResultQualifier"]
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
            # When Config looked: a bucket of this name created later is another bucket.
            evaluated_at=evaluation_time(
                identifier.get("OrderingTimestamp"),
                item.get("ConfigRuleInvokedTimestamp"),
                item.get("ResultRecordedTimestamp"),
            ),
        )
    except (KeyError, TypeError, AttributeError):
        return None


_T = TypeVar("_T", dict[str, Any], list[Any], str)


def _field(document: dict[str, Any], name: str, kind: type[_T], action: str) -> _T:
    """``document[name]``, of the type Config documents; empty when absent or empty. Any
    other shape is ConfigApiError, which fails that listing with a reason: read as empty
    it would be a rule with nothing to fix, and the buckets it lists would stay public
    unreported; raised as is it would stop every rule as an internal error."""
    value = document.get(name)
    if value is None or value == "" or isinstance(value, kind):
        return value or kind()
    raise ConfigApiError(
        f"{action}: the answer's {name} is a {type(value).__name__}, not a {kind.__name__}:"
        " not Config's answer as documented"
    )


def _count(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
