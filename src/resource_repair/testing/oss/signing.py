"""Verify OSS V1 signatures the way OSS does, so that the fake refuses what OSS refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from resource_repair.testing.identities import FakeCredentials
from resource_repair.testing.oss.models import OssServiceError, access_denied

# Query parameters that OSS includes in the signed resource; a subset of OSS's list that
# covers every bucket-level call the fake serves.
_SIGNED_SUBRESOURCES = frozenset(
    {
        "acl",
        "bucketInfo",
        "security-token",
        "location",
        "stat",
        "policy",
        "tagging",
        "publicAccessBlock",
    }
)


def string_to_sign(
    method: str, headers: Mapping[str, str], bucket: str | None, query: Mapping[str, str]
) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    oss_headers = sorted((k, v) for k, v in lowered.items() if k.startswith("x-oss-"))
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in oss_headers)
    subresources = sorted((k, v) for k, v in query.items() if k in _SIGNED_SUBRESOURCES)
    resource = f"/{bucket}/" if bucket else "/"
    if subresources:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in subresources)
    date = lowered.get("x-oss-date") or lowered.get("date", "")
    return (
        "\n".join([method, lowered.get("content-md5", ""), lowered.get("content-type", ""), date])
        + "\n"
        + canonical_headers
        + resource
    )


def signature(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def authenticate(
    known: Mapping[str, FakeCredentials],
    method: str,
    headers: Mapping[str, str],
    bucket: str | None,
    query: Mapping[str, str],
) -> FakeCredentials:
    """The registered credentials that signed this request, or the error OSS would give."""
    lowered = {k.lower(): v for k, v in headers.items()}
    authorization = lowered.get("authorization", "")
    if not authorization:
        raise access_denied("AccessDenied: anonymous access is forbidden for this operation")
    scheme, _, value = authorization.partition(" ")
    key_id, _, given = value.rpartition(":")
    if scheme != "OSS" or not key_id:
        raise access_denied("The fake OSS verifies V1 signatures only.")
    credentials = known.get(key_id)
    if credentials is None:
        raise OssServiceError(
            403,
            "InvalidAccessKeyId",
            "The OSS Access Key Id you provided does not exist in our records.",
            OSSAccessKeyId=key_id,
        )
    token = lowered.get("x-oss-security-token", "")
    if credentials.security_token and token != credentials.security_token:
        raise OssServiceError(
            403, "InvalidSecurityToken", "The security token you provided is invalid."
        )
    if credentials.expired:
        raise OssServiceError(
            403, "SecurityTokenExpired", "The security token you provided has expired."
        )
    signed = string_to_sign(method, headers, bucket, query)
    expected = signature(credentials.access_key_secret, signed)
    if not hmac.compare_digest(expected, given):
        # OSS echoes what it signed, which holds the security token, in clear and in hex.
        raise OssServiceError(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided."
            " Check your key and signing method.",
            OSSAccessKeyId=key_id,
            SignatureProvided=given,
            StringToSign=signed,
            StringToSignBytes=" ".join(f"{byte:02x}" for byte in signed.encode()),
        )
    return credentials
