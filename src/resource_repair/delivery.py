"""Unwrap what the MNS topic trigger hands the function into one Cloud Config message.

The trigger delivers a message in one of four shapes, and all may reach the same handler:

- ``stream``: the STREAM format, the event *is* the message body, which Cloud Config
  base64-encodes (the sample's case);
- ``attrs``: STREAM with message attributes, ``{"body": <body>, "attrs": {...}}``;
- ``json``: the JSON format, an envelope whose ``Message`` field holds the body;
- ``plain``: the message as JSON text, which is what ``s local invoke -e`` passes.

FC 3.0's MNS topic trigger delivers the same four shapes (its trigger configuration is the
topic subscription's ``notifyContentFormat``, as on FC 2.0). A CloudEvents envelope, the
shape of EventBridge-style triggers, is refused with a reason rather than taken for a message
that is not about a bucket: no documented topic trigger sends one, and ignoring it would
leave every reported bucket public without a word.

A body may itself be base64 or plain JSON in every shape. Decoding happens here and nowhere
else, and every way it can fail ends in :class:`InvalidEventError` with a reason.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from typing import Any

from resource_repair.errors import InvalidEventError

# A topic message is at most 64 KiB; base64 and an envelope add about a third. Anything
# much larger was not sent by Cloud Config, and parsing it would only cost time and memory.
MAX_EVENT_BYTES = 256 * 1024

FORMS = ("stream", "attrs", "json", "plain")

_ENVELOPE_KEYS = frozenset({"TopicOwner", "TopicName", "MessageId", "Subscriber"})
# The attributes every CloudEvents event carries; no Cloud Config message has them.
_CLOUDEVENT_KEYS = frozenset({"specversion", "type", "source", "id"})


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One decoded delivery: the Cloud Config message and how it arrived."""

    form: str
    message: dict[str, Any]
    attributes: dict[str, Any] = dataclasses.field(default_factory=dict)


def decode_delivery(event: object) -> Delivery:
    """Turn the trigger's ``event`` into a :class:`Delivery`, or raise InvalidEventError."""
    outer, was_base64 = _parse_body(_event_text(event))
    if outer.keys() >= _CLOUDEVENT_KEYS:
        raise InvalidEventError(
            "event is a CloudEvents envelope, not an MNS topic delivery: the function expects"
            " an mns_topic trigger (STREAM or JSON), not an EventBridge-style trigger"
        )
    if _is_envelope(outer):
        return Delivery("json", _inner_message(outer["Message"], "Message"), _attributes(outer))
    if _is_attrs_wrapper(outer):
        return Delivery("attrs", _inner_message(outer["body"], "body"), dict(outer["attrs"]))
    return Delivery("stream" if was_base64 else "plain", outer)


def _event_text(event: object) -> str:
    if isinstance(event, (bytes, bytearray, memoryview)):
        raw = bytes(event)
        _check_size(len(raw))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEventError(f"event is not UTF-8 (byte {exc.start})") from None
    if isinstance(event, str):
        _check_size(len(event))
        return event
    raise InvalidEventError(f"event has type {type(event).__name__}, expected bytes or str")


def _check_size(size: int) -> None:
    if size > MAX_EVENT_BYTES:
        raise InvalidEventError(f"event is {size} bytes, more than the {MAX_EVENT_BYTES} accepted")
    if size == 0:
        raise InvalidEventError("event is empty")


def _parse_body(text: str) -> tuple[dict[str, Any], bool]:
    """Parse a body that is JSON text or base64 of JSON text; say whether it was base64."""
    stripped = text.strip()
    if not stripped:
        raise InvalidEventError("body is empty")
    if stripped[0] in "{[":
        return _load_json(stripped), False
    return _load_json(_base64_text(stripped)), True


def _inner_message(body: object, field: str) -> dict[str, Any]:
    if not isinstance(body, str) or not body.strip():
        raise InvalidEventError(f"{field} must be a non-empty string")
    return _parse_body(body)[0]


def _base64_text(text: str) -> str:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidEventError("body is neither JSON nor valid base64") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEventError(f"base64 body is not UTF-8 (byte {exc.start})") from None


# Python refuses to convert an integer of more digits than this (sys.get_int_max_str_digits,
# a ValueError from json.loads), and runtimes older than 3.10.7 have no limit at all. Config's
# numbers are timestamps and account ids; refusing longer ones here, the same on every runtime,
# keeps a crafted number from becoming an internal error or a 100 KB account id in a reason.
MAX_INTEGER_DIGITS = 4300


def _integer(literal: str) -> int:
    digits = len(literal.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise InvalidEventError(
            f"body has an integer of {digits} digits, more than the {MAX_INTEGER_DIGITS} accepted"
        )
    return int(literal)


def decode_json_array(event: object) -> list[Any]:
    """The JSON array an event holds as plain text (Cloud Config's own call of the function,
    config_remediation.py), or InvalidEventError, with the limits every delivery has."""
    obj = _load_any(_event_text(event).strip())
    if not isinstance(obj, list):
        raise InvalidEventError(f"body is a JSON {type(obj).__name__}, expected an array")
    return obj


def _load_json(text: str) -> dict[str, Any]:
    obj = _load_any(text)
    if not isinstance(obj, dict):
        raise InvalidEventError(f"body is a JSON {type(obj).__name__}, expected an object")
    return obj


def _load_any(text: str) -> Any:
    try:
        obj = json.loads(text, parse_int=_integer)
    except RecursionError:
        raise InvalidEventError("body is JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise InvalidEventError(f"body is not valid JSON ({exc.msg} at {exc.pos})") from None
    except InvalidEventError:
        raise
    except ValueError as exc:  # any other number or text the decoder cannot turn into Python
        raise InvalidEventError(f"body cannot be read as JSON ({type(exc).__name__})") from None
    return obj


def _is_envelope(obj: dict[str, Any]) -> bool:
    return "Message" in obj and bool(_ENVELOPE_KEYS & obj.keys())


def _is_attrs_wrapper(obj: dict[str, Any]) -> bool:
    return "body" in obj and isinstance(obj.get("attrs"), dict)


def _attributes(envelope: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in envelope.items() if k != "Message"}
