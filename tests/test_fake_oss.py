"""The fake OSS, proved through oss2 itself: what oss2 sees must be what OSS would send."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from collections.abc import Callable

import oss2
import oss2.exceptions
import pytest
import requests

from resource_repair.testing import DEFAULT_CREDENTIALS, OssBackend, mock_oss
from resource_repair.testing.identities import FakeCredentials
from resource_repair.testing.oss.server import STATE_PATH, fake_oss_server

ENDPOINT = "https://oss-cn-hangzhou.aliyuncs.com"


def bucket(
    name: str = "demo-bucket",
    endpoint: str = ENDPOINT,
    creds: FakeCredentials = DEFAULT_CREDENTIALS,
) -> oss2.Bucket:
    auth = oss2.StsAuth(creds.access_key_id, creds.access_key_secret, creds.security_token)
    return oss2.Bucket(auth, endpoint, name)


def test_get_and_put_acl_round_trip_with_request_ids(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    result = bucket().get_bucket_acl()
    assert result.acl == "public-read"
    assert result.request_id == fake_oss.calls[-1].request_id != ""
    bucket().put_bucket_acl("private")
    assert bucket().get_bucket_acl().acl == "private"
    assert fake_oss.acl_of("demo-bucket") == "private"
    assert fake_oss.operations() == ["GetBucketAcl", "PutBucketAcl", "GetBucketAcl"]
    assert fake_oss.calls[1].acl_header == "private"


def test_bucket_info_is_real_oss_xml(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read-write")
    info = bucket().get_bucket_info()
    assert info.name == "demo-bucket"
    assert info.location == "oss-cn-hangzhou"
    assert info.acl.grant == "public-read-write"
    assert info.intranet_endpoint == "oss-cn-hangzhou-internal.aliyuncs.com"
    assert info.owner.id == DEFAULT_CREDENTIALS.account_id


def test_missing_bucket_raises_oss2s_no_such_bucket(fake_oss: OssBackend) -> None:
    with pytest.raises(oss2.exceptions.NoSuchBucket) as caught:
        bucket().get_bucket_acl()
    assert caught.value.status == 404
    assert caught.value.request_id


def test_put_acl_on_a_missing_bucket_creates_it_like_oss_does(fake_oss: OssBackend) -> None:
    bucket("brand-new").put_bucket_acl("private")
    created = fake_oss.buckets["brand-new"]
    assert created.created_by_put_acl
    assert created.region == "cn-hangzhou"


def test_the_wrong_regions_endpoint_is_access_denied(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-beijing", "public-read")
    with pytest.raises(oss2.exceptions.AccessDenied) as caught:
        bucket().get_bucket_acl()
    assert caught.value.details["Endpoint"] == "oss-cn-beijing.aliyuncs.com"


def test_internal_endpoint_is_served_and_recorded(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "private")
    bucket(endpoint="https://oss-cn-hangzhou-internal.aliyuncs.com").get_bucket_acl()
    assert fake_oss.calls[-1].internal


def test_another_accounts_bucket_is_access_denied(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read", owner_id="1111111111111111")
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket().get_bucket_acl()


@pytest.mark.parametrize(
    ("creds", "code"),
    [
        (
            dataclasses.replace(DEFAULT_CREDENTIALS, access_key_secret="wrong"),
            "SignatureDoesNotMatch",
        ),
        (
            dataclasses.replace(DEFAULT_CREDENTIALS, access_key_id="STS.Unknown"),
            "InvalidAccessKeyId",
        ),
        (dataclasses.replace(DEFAULT_CREDENTIALS, security_token=""), "InvalidSecurityToken"),
        (
            dataclasses.replace(DEFAULT_CREDENTIALS, security_token="CAISforged"),
            "InvalidSecurityToken",
        ),
    ],
)
def test_signatures_and_tokens_are_verified(
    fake_oss: OssBackend, creds: FakeCredentials, code: str
) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket(creds=creds).get_bucket_acl()
    assert (caught.value.status, caught.value.code) == (403, code)


def test_expired_credentials_are_refused(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    fake_oss.expire_credentials(DEFAULT_CREDENTIALS.access_key_id)
    with pytest.raises(oss2.exceptions.ServerError, match="SecurityTokenExpired"):
        bucket().get_bucket_acl()


def test_long_term_keys_without_a_token_work(fake_oss: OssBackend) -> None:
    keys = FakeCredentials("LTAIlongterm0001", "longtermsecret")
    fake_oss.register_credentials(keys)
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    assert bucket(creds=keys).get_bucket_acl().acl == "public-read"
    assert not fake_oss.calls[-1].carried_token


def test_injected_throttling_is_an_oss2_server_error_then_clears(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    fake_oss.fail_next(2, status=503, code="MetaOperationQpsLimitExceeded")
    for _ in range(2):
        with pytest.raises(oss2.exceptions.ServerError) as caught:
            bucket().get_bucket_acl()
        assert (caught.value.status, caught.value.code) == (503, "MetaOperationQpsLimitExceeded")
    assert bucket().get_bucket_acl().acl == "public-read"


def test_faults_can_target_one_operation(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    fake_oss.fail_next(operation="PutBucketAcl", status=403, code="AccessDenied")
    assert bucket().get_bucket_acl().acl == "public-read"
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket().put_bucket_acl("private")


def test_injected_timeouts_reach_oss2_as_request_errors(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    fake_oss.raise_next(requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(oss2.exceptions.RequestError, match="read timed out"):
        bucket().get_bucket_acl()


def test_dropped_writes_answer_200_and_change_nothing(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    fake_oss.drop_next_writes()
    assert bucket().put_bucket_acl("private").status == 200
    assert fake_oss.acl_of("demo-bucket") == "public-read"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/",
        "https://demo-bucket.oss-atlantis-1.aliyuncs.com/?acl",
        "https://fc.cn-hangzhou.aliyuncs.com/",
    ],
)
def test_hosts_it_does_not_serve_are_recorded_and_refused(fake_oss: OssBackend, url: str) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, timeout=1)
    assert fake_oss.refused == [url]


def test_each_use_starts_with_fresh_state() -> None:
    with mock_oss() as first:
        first.create_bucket("demo-bucket", "cn-hangzhou")
    with mock_oss() as second:
        assert second.buckets == {}
        assert second.calls == []


def test_usable_as_a_decorator() -> None:
    mock = mock_oss()
    real_send = requests.adapters.HTTPAdapter.send

    @mock
    def scenario() -> str:
        mock.backend.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
        return str(bucket().get_bucket_acl().acl)

    assert scenario() == "public-read"
    assert requests.adapters.HTTPAdapter.send is real_send  # interception ends with the test


class _Clock:
    """A clock the test moves by hand, so that a one-second window is exact."""

    def __init__(self) -> None:
        self.now = 1000.25

    def __call__(self) -> float:
        return self.now


def _throttled(call: Callable[[], object]) -> oss2.exceptions.ServerError:
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        call()
    return caught.value


def test_requests_beyond_the_qps_limit_get_osss_throttling_error(fake_oss: OssBackend) -> None:
    clock = _Clock()
    fake_oss.clock = clock
    fake_oss.qps_limit = 2
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    assert bucket().get_bucket_acl().acl == "public-read"
    assert bucket().get_bucket_acl().acl == "public-read"
    refused = _throttled(lambda: bucket().get_bucket_acl())
    assert (refused.status, refused.code) == (503, "MetaOperationQpsLimitExceeded")
    assert refused.message == "Qps limit for the meta operation is exceeded"
    assert refused.request_id == fake_oss.calls[-1].request_id != ""
    assert fake_oss.throttle is not None
    assert fake_oss.throttle.throttled == 1
    clock.now += 1  # the next second: admitted again
    assert bucket().get_bucket_acl().acl == "public-read"


def test_the_limit_counts_every_bucket_and_a_refused_write_changes_nothing(
    fake_oss: OssBackend,
) -> None:
    fake_oss.clock = _Clock()
    fake_oss.qps_limit = 3
    for name in ("bucket-a", "bucket-b", "bucket-c"):
        fake_oss.create_bucket(name, "cn-hangzhou", "public-read")
    bucket("bucket-a").get_bucket_info()
    bucket("bucket-b").get_bucket_info()
    bucket("bucket-c").put_bucket_acl("private")
    refused = _throttled(lambda: bucket("bucket-a").put_bucket_acl("private"))
    assert refused.code == "MetaOperationQpsLimitExceeded"
    assert fake_oss.acl_of("bucket-a") == "public-read"
    assert fake_oss.acl_of("bucket-c") == "private"
    assert [call.status for call in fake_oss.calls] == [200, 200, 200, 503]


def test_refused_requests_do_not_use_up_the_next_second(fake_oss: OssBackend) -> None:
    clock = _Clock()
    fake_oss.clock = clock
    fake_oss.qps_limit = 2
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    outcomes = []
    for _second in range(3):
        for _ in range(5):
            try:
                bucket().get_bucket_acl()
                outcomes.append(200)
            except oss2.exceptions.ServerError as exc:
                outcomes.append(exc.status)
        clock.now += 1
    assert outcomes == [200, 200, 503, 503, 503] * 3


@pytest.mark.parametrize("limit", [0, -1, 2.5, True, "10"])
def test_a_limit_that_is_not_a_positive_integer_is_refused(limit: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        OssBackend(qps_limit=limit)  # type: ignore[arg-type]


def test_the_limit_holds_over_the_loopback_server_and_shows_in_its_state() -> None:
    clock = _Clock()
    backend = OssBackend(qps_limit=4, clock=clock)
    backend.create_bucket("demo-bucket", "ap-southeast-1", "public-read")
    with fake_oss_server(backend) as server:
        over_http = bucket(endpoint=server.url)
        answers = []
        for _ in range(6):
            try:
                answers.append(str(over_http.get_bucket_info().acl.grant))
            except oss2.exceptions.ServerError as exc:
                answers.append(f"{exc.status} {exc.code}")
        state = json.loads(urllib.request.urlopen(server.url + STATE_PATH, timeout=5).read())  # noqa: S310 - loopback
    assert answers == ["public-read"] * 4 + ["503 MetaOperationQpsLimitExceeded"] * 2
    assert state["qps_limit"] == 4
    assert state["throttled"] == 2
    assert state["acls"] == {"public-read": 1}


def test_the_limit_is_per_second_of_real_time_by_default(fake_oss: OssBackend) -> None:
    fake_oss.qps_limit = 1
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    statuses = []
    for _ in range(6):
        try:
            bucket().get_bucket_acl()
            statuses.append(200)
        except oss2.exceptions.ServerError as exc:
            statuses.append(exc.status)
    # A burst of six within well under a second: one gets through, or two if the burst
    # happens to straddle the turn of a second.
    assert statuses.count(200) in (1, 2)
    assert set(statuses) == {200, 503}


# -- tags, bucket policies, Block Public Access ------------------------------------------

POLICY = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Principal": ["*"]}]})
PRIVATE_POLICY = json.dumps({"Version": "1", "Statement": [{"Effect": "Deny", "Principal": "*"}]})


def test_bucket_tags_are_osss_tagging_document(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou").tags = {"website": "yes", "team": ""}
    rules = bucket().get_bucket_tagging().tag_set.tagging_rule
    assert dict(rules) == {"website": "yes", "team": ""}
    fake_oss.create_bucket("bare-bucket", "cn-hangzhou")
    assert dict(bucket("bare-bucket").get_bucket_tagging().tag_set.tagging_rule) == {}
    assert fake_oss.operations() == ["GetBucketTagging", "GetBucketTagging"]


def test_bucket_policy_round_trip_and_no_such_bucket_policy(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou")
    with pytest.raises(oss2.exceptions.NoSuchBucketPolicy) as caught:
        bucket().get_bucket_policy()
    assert (caught.value.status, caught.value.code) == (404, "NoSuchBucketPolicy")
    bucket().put_bucket_policy(POLICY)
    assert bucket().get_bucket_policy().policy == POLICY == fake_oss.policy_of("demo-bucket")
    bucket().delete_bucket_policy()
    assert fake_oss.policy_of("demo-bucket") is None
    assert fake_oss.operations() == [
        "GetBucketPolicy",
        "PutBucketPolicy",
        "GetBucketPolicy",
        "DeleteBucketPolicy",
    ]


def test_policy_calls_on_a_missing_bucket_never_create_it(fake_oss: OssBackend) -> None:
    for call in (bucket().get_bucket_policy, bucket().delete_bucket_policy):
        with pytest.raises(oss2.exceptions.NoSuchBucket):
            call()
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        bucket().put_bucket_policy(POLICY)
    assert fake_oss.buckets == {}


def test_a_policy_that_is_not_a_document_is_refused(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou")
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        bucket().put_bucket_policy("{not json")
    assert (caught.value.status, caught.value.code) == (400, "InvalidPolicyDocument")
    assert fake_oss.policy_of("demo-bucket") is None


def test_policy_and_tag_faults_can_be_injected(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou").policy = POLICY
    fake_oss.fail_next(operation="PutBucketPolicy", status=403, code="AccessDenied")
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket().put_bucket_policy(PRIVATE_POLICY)
    assert fake_oss.policy_of("demo-bucket") == POLICY


@pytest.mark.parametrize(("body", "enabled"), [("True", True), ("true", True), ("false", False)])
def test_public_access_block_round_trip_over_the_wire(body: str, enabled: bool) -> None:
    """Through the wire itself (oss2 gained these calls in 2.19.0): OSS's document, and the
    capitalised ``True`` oss2 writes."""
    from resource_repair.testing.oss.wire import handle_request

    backend = OssBackend()
    backend.verify_signatures = False
    backend.create_bucket("demo-bucket", "cn-hangzhou")
    url = "https://demo-bucket.oss-cn-hangzhou.aliyuncs.com/?publicAccessBlock"
    document = (
        "<PublicAccessBlockConfiguration><BlockPublicAccess>"
        f"{body}</BlockPublicAccess></PublicAccessBlockConfiguration>"
    )
    put = handle_request(backend, "PUT", url, {"Authorization": "OSS k:s"}, body=document)
    assert put.status == 200
    got = handle_request(backend, "GET", url, {"Authorization": "OSS k:s"})
    assert f"<BlockPublicAccess>{str(enabled).lower()}</BlockPublicAccess>".encode() in got.body
    assert backend.buckets["demo-bucket"].block_public_access is enabled
    bad = handle_request(backend, "PUT", url, {"Authorization": "OSS k:s"}, body="<x/>")
    assert (bad.status, b"MalformedXML" in bad.body) == (400, True)
    assert backend.operations() == [
        "PutBucketPublicAccessBlock",
        "GetBucketPublicAccessBlock",
        "PutBucketPublicAccessBlock",
    ]


def test_block_public_access_refuses_a_public_acl_or_policy(fake_oss: OssBackend) -> None:
    demo = fake_oss.create_bucket("demo-bucket", "cn-hangzhou")
    demo.block_public_access = True
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket().put_bucket_acl("public-read")
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket().put_bucket_policy(POLICY)
    bucket().put_bucket_acl("private")
    bucket().put_bucket_policy(PRIVATE_POLICY)
    assert (demo.acl, demo.policy) == ("private", PRIVATE_POLICY)


def test_a_key_of_one_account_is_refused_on_another_accounts_bucket(fake_oss: OssBackend) -> None:
    member = FakeCredentials("STS.NMemberKey0001", "MemberSecret0001", "tok", "1111222233334444")
    fake_oss.register_credentials(member)
    fake_oss.create_bucket("hub-bucket", "cn-hangzhou", "public-read")
    fake_oss.create_bucket(
        "member-bucket", "cn-hangzhou", "public-read", owner_id=member.account_id
    )
    assert bucket("member-bucket", creds=member).get_bucket_acl().acl == "public-read"
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket("hub-bucket", creds=member).put_bucket_acl("private")
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket("member-bucket").get_bucket_acl()  # the hub's own key, on the member's bucket
    assert fake_oss.acl_of("hub-bucket") == "public-read"


def test_a_session_does_only_what_its_session_policy_allows(fake_oss: OssBackend) -> None:
    session = FakeCredentials("STS.NSessionKey0001", "SessionSecret0001", "tok")
    fake_oss.register_credentials(session)
    fake_oss.limit_session(session.access_key_id, frozenset({"oss:GetBucketInfo"}))
    fake_oss.create_bucket("demo-bucket", "cn-hangzhou", "public-read")
    assert bucket(creds=session).get_bucket_info().acl.grant == "public-read"
    with pytest.raises(oss2.exceptions.AccessDenied) as caught:
        bucket(creds=session).put_bucket_acl("private")
    assert "oss:PutBucketAcl" in caught.value.message
    assert fake_oss.acl_of("demo-bucket") == "public-read"
    assert bucket().get_bucket_acl().acl == "public-read"  # an unlimited key is unaffected
