"""Exemption by bucket tag (``exemptTag``): a bucket its owner marked as public on purpose.

The tags cost a request (GetBucketTagging, and the permission for it), so a remediator asks
only once it knows a write would otherwise follow: never for a bucket that is already
compliant. A tag that cannot be read stops the write: a bucket that may be exempt is not
changed on a guess.
"""

from __future__ import annotations

from typing import Protocol

from resource_repair.retry import Deadline, RetryPolicy

# settings.EXEMPT_TAG, written out: remediations sit below the settings (resource_repair's
# layers), and tests/test_exempt_tag.py keeps the two equal.
SETTING = "exemptTag"
# The OSS action it calls: the registry hands it to the role's policy when exemptTag is set.
PERMISSIONS = ("oss:GetBucketTagging",)


class TaggingApi(Protocol):
    def get_tags(self) -> tuple[dict[str, str], str]: ...


def exempt_by_tag(
    client: TaggingApi,
    exempt_tag: tuple[str, str | None] | None,
    policy: RetryPolicy,
    deadline: Deadline,
    request_ids: list[str],
) -> str | None:
    """Why the bucket is exempt, or None. OSS errors propagate (the caller writes nothing)."""
    if exempt_tag is None:
        return None
    tags, request_id = policy.call(client.get_tags, deadline)
    if request_id:
        request_ids.append(request_id)
    key, value = exempt_tag
    if key not in tags or (value is not None and tags[key] != value):
        return None
    wanted = key if value is None else f"{key}={value}"
    return f"bucket carries the tag {wanted!r} ({SETTING}); not written"[:400]
