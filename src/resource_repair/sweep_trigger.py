"""What starts a sweep: its timer's event, or an explicit ``{"sweep": "run"}``.

Anything else is refused before any request. ``s local invoke`` without an entry name runs
every entry of the template with the same event, so a Config message meant for the event
function would otherwise start a whole sweep with the workstation's own keys; and a
renamed or rebuilt trigger whose payload no longer looks like a timer's must be heard of,
not go on sweeping (or not) unseen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

# A timer's event is a few hundred bytes; anything far larger is not one.
_MAX_EVENT_BYTES = 64 * 1024
TIMER_KEYS = ("triggerTime", "triggerName")
EXPLICIT_REQUEST = {"sweep": "run"}


def refusal(event: object) -> str | None:
    """Why ``event`` does not start a sweep, or None when it does: an object with
    ``triggerTime`` and ``triggerName`` (FC's timer trigger), or ``{"sweep": "run"}``."""
    document = _document(event)
    if isinstance(document, str):
        return document
    if all(isinstance(document.get(key), str) and document[key] for key in TIMER_KEYS):
        return None
    if document.get("sweep") == "run":
        return None
    keys = ", ".join(sorted(str(k)[:40] for k in document)[:5]) or "none"
    return (
        "not a sweep request: the event has neither triggerTime and triggerName (the"
        f' timer\'s) nor "sweep": "run" (keys: {keys}); nothing was swept. A Config'
        " message is the event function's (index.handler): with `s local invoke`, name"
        " the entry to run"
    )


def _document(event: object) -> Mapping[str, object] | str:
    """The event as a JSON object, or why it is none."""
    if isinstance(event, Mapping):
        return event
    if isinstance(event, (bytes, bytearray)):
        if len(event) > _MAX_EVENT_BYTES:
            return f"not a sweep request: the event is {len(event)} bytes; nothing was swept"
        try:
            event = bytes(event).decode("utf-8")
        except UnicodeDecodeError:
            return "not a sweep request: the event is not UTF-8 text; nothing was swept"
    if not isinstance(event, str):
        return f"not a sweep request: the event is a {type(event).__name__}; nothing was swept"
    if len(event) > _MAX_EVENT_BYTES:
        return f"not a sweep request: the event is {len(event)} characters; nothing was swept"
    if not event.strip():
        return (
            "not a sweep request: the event is empty; a timer sends triggerTime and"
            ' triggerName, and a run by hand sends {"sweep": "run"}; nothing was swept'
        )
    try:
        document = json.loads(event)
    except (ValueError, RecursionError):
        return "not a sweep request: the event is not JSON; nothing was swept"
    if not isinstance(document, dict):
        return "not a sweep request: the event is not a JSON object; nothing was swept"
    return document
