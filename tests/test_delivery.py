"""Decoding every shape the MNS trigger delivers, and refusing what is not a message."""

from __future__ import annotations

import base64
import json

import pytest

from resource_repair.delivery import MAX_EVENT_BYTES, decode_delivery
from resource_repair.errors import InvalidEventError
from tests.conftest import BUCKET, EVENTS, load_event

SEED = json.loads((EVENTS / "noncompliance-oss-plain.json").read_text())


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("noncompliance-oss-stream.txt", "stream"),
        ("noncompliance-oss-attrs.json", "attrs"),
        ("noncompliance-oss-json-envelope.json", "json"),
        ("noncompliance-oss-json-envelope-plain-message.json", "json"),
        ("noncompliance-oss-plain.json", "plain"),
    ],
)
def test_every_form_yields_the_same_message(name: str, form: str) -> None:
    delivery = decode_delivery(load_event(name))
    assert delivery.form == form
    assert delivery.message == SEED


def test_str_events_decode_like_bytes() -> None:
    raw = load_event("noncompliance-oss-stream.txt")
    assert decode_delivery(raw.decode()).message == decode_delivery(raw).message


def test_attrs_and_envelope_keep_their_attributes() -> None:
    attrs = decode_delivery(load_event("noncompliance-oss-attrs.json"))
    assert attrs.attributes == {"Extend": '{"key":"value"}'}
    envelope = decode_delivery(load_event("noncompliance-oss-json-envelope.json"))
    assert envelope.attributes["TopicName"] == "SMQTestConfig"
    assert "Message" not in envelope.attributes


def test_a_message_with_a_body_field_is_not_mistaken_for_an_attrs_wrapper() -> None:
    message = dict(SEED, body="not a wrapper")
    assert decode_delivery(json.dumps(message)).message["body"] == "not a wrapper"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("hostile-broken-base64-stream.txt", "neither JSON nor valid base64"),
        ("hostile-invalid-utf8.bin", "not UTF-8"),
        ("hostile-deeply-nested-plain.json", "nested too deeply"),
        ("hostile-not-an-object-plain.json", "expected an object"),
        ("hostile-envelope-message-not-string.json", "Message must be a non-empty string"),
    ],
)
def test_hostile_deliveries_are_refused_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(InvalidEventError, match=reason):
        decode_delivery(load_event(name))


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (b"", "empty"),
        (b"   ", "body is empty"),
        (b"{" * 10, "not valid JSON"),
        (base64.b64encode(b"\xff\xfe"), "base64 body is not UTF-8"),
        (base64.b64encode(b"[1, 2]"), "expected an object"),
        # A character outside base64's alphabet is refused, not skipped over.
        (b"eyJy!ZXNvdXJjZUlkIjogIngifQ==", "nor valid base64"),  # {"resourceId": "x"}
        (b"x" * (MAX_EVENT_BYTES + 1), "more than the"),
        (json.dumps({"body": 7, "attrs": {}}).encode(), "body must be a non-empty string"),
    ],
)
def test_malformed_bodies(event: bytes, reason: str) -> None:
    with pytest.raises(InvalidEventError, match=reason):
        decode_delivery(event)


@pytest.mark.parametrize("event", [None, 42, {"Message": "x"}, ["a"]])
def test_events_of_the_wrong_type_are_refused(event: object) -> None:
    with pytest.raises(InvalidEventError, match="expected bytes or str"):
        decode_delivery(event)


def test_a_one_megabyte_body_is_refused_before_parsing() -> None:
    body = base64.b64encode(json.dumps({"pad": "x" * 1_000_000, "resourceId": BUCKET}).encode())
    with pytest.raises(InvalidEventError, match="bytes, more than"):
        decode_delivery(body)


@pytest.mark.parametrize("digits", [4301, 5000, 100_000])
@pytest.mark.parametrize("sign", ["", "-"])
def test_an_integer_longer_than_python_converts_is_an_invalid_event(digits: int, sign: str) -> None:
    body = json.dumps(SEED).replace("1595419396740", sign + "7" * digits)
    with pytest.raises(InvalidEventError, match=f"integer of {digits} digits"):
        decode_delivery(body)


def test_a_huge_integer_is_refused_in_every_form() -> None:
    huge = (EVENTS / "hostile-huge-integer-plain.json").read_text()
    encoded = base64.b64encode(huge.encode()).decode()
    envelope = json.dumps({"TopicOwner": "1", "MessageId": "m", "Message": encoded})
    attrs = json.dumps({"body": encoded, "attrs": {}})
    for event in (huge, encoded, envelope, attrs):
        with pytest.raises(InvalidEventError, match="integer of 5000 digits"):
            decode_delivery(event)


def test_integers_of_up_to_4300_digits_still_parse() -> None:
    body = json.dumps(SEED).replace("1595419396740", "7" * 4300)
    assert decode_delivery(body).message["resultRecordedTimestamp"] == int("7" * 4300)
