"""The fake OSS, proved through oss2 itself: what oss2 sees must be what OSS would send."""

from __future__ import annotations

import dataclasses

import oss2
import oss2.exceptions
import pytest
import requests

from resource_repair.testing import DEFAULT_CREDENTIALS, OssBackend, mock_oss
from resource_repair.testing.identities import FakeCredentials

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
