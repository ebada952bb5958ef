"""The fakes answer setup's calls as the services document them, through the real clients:
aliyun-mns-sdk for SMQ, aliyunsdkcore for Config and RAM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import mns.account
import mns.mns_exception
import mns.subscription
import mns.topic
import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException

from resource_repair.credentials import Credentials
from resource_repair.rpc import acs_client, rpc_request
from resource_repair.testing.config import mock_config_api
from resource_repair.testing.identities import DEFAULT_CREDENTIALS as KEY
from resource_repair.testing.mns import MnsBackend, fake_mns_server
from resource_repair.testing.ram import mock_ram


@pytest.fixture
def smq() -> Iterator[tuple[MnsBackend, Any]]:
    backend = MnsBackend()
    with fake_mns_server(backend) as server:
        account = mns.account.Account(
            server.url, KEY.access_key_id, KEY.access_key_secret, KEY.security_token
        )
        yield backend, account


def test_creating_a_topic_again_with_other_attributes_is_topic_already_exist(
    smq: tuple[MnsBackend, Any],
) -> None:
    backend, account = smq
    account.get_topic("alerts").create(mns.topic.TopicMeta(maximum_message_size=65536))
    account.get_topic("alerts").create(mns.topic.TopicMeta(maximum_message_size=65536))
    with pytest.raises(mns.mns_exception.MNSServerException) as caught:
        account.get_topic("alerts").create(mns.topic.TopicMeta(maximum_message_size=1024))
    assert caught.value.type == "TopicAlreadyExist"
    assert list(backend.topics) == ["alerts"]


def test_subscriptions_are_listed_and_removed_with_their_topic(
    smq: tuple[MnsBackend, Any],
) -> None:
    backend, account = smq
    topic = account.get_topic("alerts")
    topic.create(mns.topic.TopicMeta())
    meta = mns.subscription.SubscriptionMeta("https://hooks.example.com/x", "BACKOFF_RETRY")
    topic.get_subscription("hook").subscribe(meta)
    urls, marker = topic.list_subscription()
    assert [u.rpartition("/")[2] for u in urls] == ["hook"]
    assert marker == ""
    topic.delete()
    assert backend.topics == {}
    assert backend.subscriptions == {}
    with pytest.raises(mns.mns_exception.MNSServerException) as caught:
        topic.get_subscription("hook").unsubscribe()
    assert caught.value.type == "SubscriptionNotExist"


def test_an_account_without_smq_is_access_denied(smq: tuple[MnsBackend, Any]) -> None:
    backend, account = smq
    backend.activated = False
    with pytest.raises(mns.mns_exception.MNSServerException) as caught:
        account.get_topic("alerts").create(mns.topic.TopicMeta())
    assert caught.value.type == "AccessDenied"


def call(domain: str, version: str, action: str, **params: Any) -> dict[str, Any]:
    credentials = Credentials(KEY.access_key_id, KEY.access_key_secret, KEY.security_token)
    client = acs_client(credentials, "ap-southeast-1")
    answer = client.do_action_with_exception(rpc_request(domain, version, action, params))
    return json.loads(answer)  # type: ignore[no-any-return]


CONFIG = "config.ap-southeast-1.aliyuncs.com"


def test_config_refuses_a_sixth_delivery_channel_and_a_missing_rule() -> None:
    with mock_config_api() as config:
        for n in range(5):
            config.add_delivery_channel(f"acs:mns:ap-southeast-1:1:/topics/t{n}")
        with pytest.raises(ServerException) as caught:
            call(
                CONFIG,
                "2020-09-07",
                "CreateConfigDeliveryChannel",
                DeliveryChannelType="MNS",
                DeliveryChannelTargetArn="acs:mns:ap-southeast-1:1:/topics/t5",
            )
        assert caught.value.get_error_code() == "DeliveryChannelNumExceedLimit"
        with pytest.raises(ServerException) as caught:
            call(CONFIG, "2020-09-07", "GetConfigRule", ConfigRuleId="cr-missing")
        assert caught.value.get_error_code() == "ConfigRuleNotExists"


def test_ram_says_when_configs_service_linked_role_is_missing() -> None:
    with mock_ram() as ram:
        with pytest.raises(ServerException) as caught:
            call("ram.aliyuncs.com", "2015-05-01", "GetRole", RoleName="AliyunServiceRoleForConfig")
        assert caught.value.get_error_code() == "EntityNotExist.Role"
        ram.add_role("AliyunServiceRoleForConfig")
        role = call(
            "ram.aliyuncs.com", "2015-05-01", "GetRole", RoleName="AliyunServiceRoleForConfig"
        )
        assert role["Role"]["RoleName"] == "AliyunServiceRoleForConfig"
