"""How setup knows what it created: a tag on a Config rule, a name and description on a
delivery channel, and, for SMQ topics and subscriptions and Config remediations (which
carry neither), a record file beside the template. What setup found already in place is
never marked, so ``setup --teardown`` never removes it."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from resource_repair.tools.file_bounds import read_bytes_at_most

TAG_KEY = "resource-repair"
TAG_VALUE = "setup"
CHANNEL_NAME = "resource-repair-setup"
DESCRIPTION = "Created by resource-repair setup; removed by resource-repair setup --teardown."
RECORD_NAME = ".resource-repair-setup.json"


def rule_tag() -> str:
    """CreateConfigRule's ``Tag``: a JSON list of {Key, Value}."""
    return json.dumps([{"Key": TAG_KEY, "Value": TAG_VALUE}])


def rule_is_marked(rule: Mapping[str, Any]) -> bool:
    """Setup's tag, or its description: a rule gets both when setup creates it, and not
    every answer carries the tags (an account group's rule may come without them)."""
    tags = rule.get("Tags") or []
    tagged = any(
        isinstance(t, dict) and t.get("Key") == TAG_KEY and t.get("Value") == TAG_VALUE
        for t in tags
    )
    return tagged or rule.get("Description") == DESCRIPTION


def channel_is_marked(channel: Mapping[str, Any]) -> bool:
    return (
        channel.get("DeliveryChannelName") == CHANNEL_NAME
        and channel.get("Description") == DESCRIPTION
    )


# A record names a few topics, subscriptions and remediations: a few KiB.
MAX_RECORD_BYTES = 1024 * 1024


def _entry_of(value: object) -> dict[str, list[Any]]:
    """An account's and region's entry as setup writes it, from what the file holds."""
    entry = value if isinstance(value, dict) else {}
    topics = entry.get("topics")
    return {
        "topics": [t for t in topics if isinstance(t, str)] if isinstance(topics, list) else [],
        "subscriptions": _pairs(entry.get("subscriptions")),
        "remediations": _pairs(entry.get("remediations")),
    }


def _pairs(value: object) -> list[list[str]]:
    """The [name, name] pairs of a record's list; anything else in it marks nothing."""
    if not isinstance(value, list):
        return []
    return [
        list(pair)
        for pair in value
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
    ]


def record_path(template_path: str) -> Path:
    """The record of the topics and subscriptions setup created: beside the template."""
    return Path(template_path).resolve().parent / RECORD_NAME


class Record:
    """Topics and subscriptions setup created, per account and region, in a JSON file."""

    def __init__(self, path: Path, account: str, region: str) -> None:
        self.path = path
        self._key = f"{account}/{region}"
        self._document = self._read()
        # Of the shape setup writes, once: what else a hand put in the file marks nothing
        # (and is dropped when the record is next written).
        self._document[self._key] = _entry_of(self._document.get(self._key))

    def _read(self) -> dict[str, Any]:
        # An unreadable record marks nothing: teardown then removes nothing. A named pipe
        # or a device in its place is not read at all (reading would wait or never end).
        if not self.path.is_file():
            return {}
        try:
            document = json.loads(read_bytes_at_most(self.path, MAX_RECORD_BYTES, "record"))
        except (OSError, ValueError, RecursionError):
            return {}
        return document if isinstance(document, dict) else {}

    def _entry(self) -> dict[str, list[Any]]:
        """This account's and region's entry (a new one once the last was emptied)."""
        return self._document.setdefault(self._key, _entry_of(None))  # type: ignore[no-any-return]

    def topics(self) -> list[str]:
        return [str(t) for t in self._entry()["topics"]]

    def subscriptions(self, topic: str) -> list[str]:
        return [str(name) for t, name in self._entry()["subscriptions"] if t == topic]

    def add_topic(self, topic: str) -> None:
        self._change("topics", [topic], add=True)

    def remove_topic(self, topic: str) -> None:
        self._change("topics", [topic], add=False)

    def add_subscription(self, topic: str, name: str) -> None:
        self._change("subscriptions", [[topic, name]], add=True)

    def remove_subscription(self, topic: str, name: str) -> None:
        self._change("subscriptions", [[topic, name]], add=False)

    def remediations(self) -> list[tuple[str, str]]:
        """(rule id, remediation id) of each Config remediation setup registered: Config
        keeps no tag or description on one, so the record is its mark."""
        return [(str(rule), str(rid)) for rule, rid in self._entry()["remediations"]]

    def add_remediation(self, rule_id: str, remediation_id: str) -> None:
        self._change("remediations", [[rule_id, remediation_id]], add=True)

    def remove_remediation(self, rule_id: str, remediation_id: str) -> None:
        self._change("remediations", [[rule_id, remediation_id]], add=False)

    def _change(self, kind: str, items: Iterable[Any], *, add: bool) -> None:
        values = self._entry()[kind]
        for item in items:
            if add and item not in values:
                values.append(item)
            elif not add and item in values:
                values.remove(item)
        if not any(self._document[self._key].values()):
            del self._document[self._key]
        self._write()

    def _write(self) -> None:
        # Written at once after each change: a setup interrupted half-way still knows
        # what it made. Replaced atomically so that a crash never leaves half a file.
        if not self._document:
            self.path.unlink(missing_ok=True)
            return
        # A new file of a name of its own (O_EXCL): a link planted beside the template under
        # a name setup would use is never written through.
        descriptor, partial = tempfile.mkstemp(
            dir=self.path.parent, prefix=f"{self.path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(self._document, indent=2, sort_keys=True) + "\n")
            os.replace(partial, self.path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
