"""The managed rules this function remediates, each keyed to its remedy and the OSS actions
that remedy calls.

Plain values: the settings check a ``prepareRuleName`` binding against
:data:`KNOWN_IDENTIFIERS`, and ``selection.py`` reads the settings to choose among these
(``selection.required_actions`` adds up the actions, so that the template's role can be
checked against the code, tests/test_template.py). Kept free of oss2 and of the settings.
"""

from __future__ import annotations

import enum


class Remedy(str, enum.Enum):
    """What is done to a bucket."""

    ACL_PRIVATE = "acl-private"
    """The ACL becomes private."""
    ACL_NO_WRITE = "acl-no-write"
    """Only the write is taken away: public-read-write becomes public-read."""
    POLICY = "policy"
    """Bucket policy statements that allow anyone are removed."""


READ_RULE = "oss-bucket-public-read-prohibited"
WRITE_RULE = "oss-bucket-public-write-prohibited"
POLICY_RULE = "oss-bucket-policy-no-any-anonymous"

REMEDIES: dict[str, Remedy] = {
    READ_RULE: Remedy.ACL_PRIVATE,
    WRITE_RULE: Remedy.ACL_NO_WRITE,
    POLICY_RULE: Remedy.POLICY,
}
KNOWN_IDENTIFIERS = tuple(REMEDIES)

# The OSS actions each remedy calls (the remediators' PERMISSIONS say the same; a test
# keeps them equal).
ACTIONS: dict[Remedy, tuple[str, ...]] = {
    Remedy.ACL_PRIVATE: ("oss:GetBucketInfo", "oss:PutBucketAcl"),
    Remedy.ACL_NO_WRITE: ("oss:GetBucketInfo", "oss:PutBucketAcl"),
    Remedy.POLICY: (
        "oss:GetBucketInfo",
        "oss:GetBucketPolicy",
        "oss:PutBucketPolicy",
        "oss:DeleteBucketPolicy",
    ),
}
EXEMPT_TAG_ACTIONS = ("oss:GetBucketTagging",)
BLOCK_PUBLIC_ACCESS_ACTIONS = (
    "oss:GetBucketPublicAccessBlock",
    "oss:PutBucketPublicAccessBlock",
)
