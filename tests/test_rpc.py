"""The one place that builds aliyunsdkcore requests and reads their failures."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import uuid
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from resource_repair.credentials import Credentials
from resource_repair.rpc import acs_client, rpc_request, server_message
from resource_repair.testing import DEFAULT_CREDENTIALS
from resource_repair.testing.sts import StsBackend, fake_sts_server
from resource_repair.tools.caller import caller_identity


def test_a_request_goes_over_https_unless_a_local_fake_is_named() -> None:
    # aliyunsdkcore's CommonRequest defaults to plain HTTP: signature and token in clear.
    assert (
        rpc_request("config.ap-southeast-1.aliyuncs.com", "2020-09-07", "X", {}).get_protocol_type()
        == "https"
    )
    local = rpc_request("127.0.0.1:9001", "2020-09-07", "X", {"A": 1}, http=True)
    assert local.get_protocol_type() == "http"
    assert local.get_method() == "POST"
    assert local.get_query_params() == {"A": "1"}


def test_a_signature_error_loses_the_string_to_sign_it_echoes() -> None:
    # The echo holds the key id and the token (quoted twice): no error text carries it on.
    echoed = (
        "Specified signature is not matched with our calculation. server string to sign"
        " is:POST&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3DCAIS%252Btoken"
    )
    assert server_message(echoed) == "Specified signature is not matched with our calculation."
    assert server_message(None) == ""


def test_building_clients_never_touches_the_environment_nor_signs_with_its_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # aliyunsdkcore's signer factory prefers ALIYUN_ACCESS_KEY_* to the credentials it is
    # given; clients are built in several threads at once (backfill, the sweep), while
    # other threads read the environment.
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_ID", "EnvKeyIdNeverUsed01")
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_SECRET", "EnvSecretNeverUsed01")
    before = dict(os.environ)
    seen_changed: list[str] = []
    building = threading.Event()

    def watch() -> None:
        while building.is_set():
            for name in ("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET"):
                if os.environ.get(name) != before[name]:
                    seen_changed.append(name)

    def build(index: int) -> tuple[str, str]:
        token = "CAISThreadToken0123456789" if index % 2 else ""
        credentials = Credentials(f"KeyOfThread{index:04d}", f"SecretOfThread{index:04d}", token)
        client = acs_client(credentials, "cn-hangzhou")
        request = rpc_request("sts.aliyuncs.com", "2015-04-01", "GetCallerIdentity", {})
        request.trans_to_acs_request()
        _, url = client._signer.sign("cn-hangzhou", request)  # as the SDK does before sending
        return credentials.access_key_id, parse_qs(urlsplit(url).query)["AccessKeyId"][0]

    building.set()
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(build, range(400)))
    finally:
        building.clear()
        watcher.join()
    assert all(given == signed for given, signed in results)
    assert seen_changed == []
    assert dict(os.environ) == before


def test_a_client_signs_with_the_credentials_given_even_with_keys_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_ID", "EnvKeyIdNeverUsed01")
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_SECRET", "EnvSecretNeverUsed01")
    backend = StsBackend()
    with fake_sts_server(backend) as server:
        credentials = Credentials(
            DEFAULT_CREDENTIALS.access_key_id,
            DEFAULT_CREDENTIALS.access_key_secret,
            DEFAULT_CREDENTIALS.security_token,
        )
        identity = caller_identity(credentials, endpoint=server.url.removeprefix("http://"))
    assert identity.account_id == DEFAULT_CREDENTIALS.account_id
    assert backend.calls == [DEFAULT_CREDENTIALS.access_key_id]


def test_an_sdk_clients_keys_are_masked_from_the_moment_it_is_built(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # aliyunsdkcore echoes a signed request's URL (the token quoted in it) in its errors,
    # and the string to sign in a signature error: none of it shows the keys.
    fresh = Credentials("STS.FreshKeyId", f"Secret{uuid.uuid4().hex}", f"Tok{uuid.uuid4().hex}")
    acs_client(fresh, "cn-hangzhou")
    caplog.set_level(logging.DEBUG)
    for secret in fresh.secrets:
        logging.getLogger("aliyunsdkcore").warning("signed %s", quote(secret))
        logging.getLogger("resource_repair.config_api").warning("%s", secret.encode().hex())
    for secret in fresh.secrets:
        assert secret not in caplog.text
        assert secret.encode().hex() not in caplog.text
