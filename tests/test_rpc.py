"""The one place that builds aliyunsdkcore requests and reads their failures."""

from __future__ import annotations

from resource_repair.rpc import rpc_request, server_message


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
