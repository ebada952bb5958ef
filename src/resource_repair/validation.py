"""Checks a message must pass before any request is made on its behalf.

The bucket name and region id end up in the host name of a signed request that carries
the function's security token, so they are held to OSS's own rules here: a crafted
``regionId`` such as ``x.evil.example/#`` must never reach a URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from resource_repair.errors import InvalidEventError
from resource_repair.message import NonComplianceEvent

# OSS: 3-63 characters, lowercase letters, digits and hyphens, a letter or digit at each end.
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
# cn-hangzhou, ap-southeast-1, cn-shanghai-finance-1, cn-north-2-gov-1, cn-wuhan-lr, ...
_REGION_ID = re.compile(r"[a-z]{2}(?:-[a-z0-9]+){1,4}")
_MAX_REGION_LENGTH = 40
# Alibaba Cloud account ids are 16 digits; an id can become part of a host name (SMQ's).
_ACCOUNT_ID = re.compile(r"[0-9]{1,20}")


def is_bucket_name(name: str) -> bool:
    """True when ``name`` follows OSS's naming rules (the settings check exemptions with it)."""
    return _BUCKET_NAME.fullmatch(name) is not None


def is_account_id(text: str | None) -> bool:
    """True when ``text`` can be an account id: digits only, so safe in a host name."""
    return bool(text and _ACCOUNT_ID.fullmatch(text))


def check_bucket_name(name: str) -> None:
    if not is_bucket_name(name):
        raise InvalidEventError(f"{name[:80]!r} is not a valid OSS bucket name")


def check_region_id(region: str) -> None:
    if len(region) > _MAX_REGION_LENGTH or not _REGION_ID.fullmatch(region):
        raise InvalidEventError(f"{region[:80]!r} is not a valid region id")


def member_owner(event: NonComplianceEvent, function_account_id: str | None) -> str | None:
    """The bucket's owner when it is known to be another account than the function's."""
    owner = event.owner_account_id
    if owner and function_account_id and owner != function_account_id:
        return owner
    return None


def check_account(
    event: NonComplianceEvent,
    function_account_id: str | None,
    may_act_in: Callable[[str], bool] | None = None,
) -> None:
    """Refuse a bucket that another account owns, when both accounts are known, unless
    hub mode names that account (``may_act_in``, Settings.may_act_in)."""
    owner = member_owner(event, function_account_id)
    if owner is not None and not (may_act_in is not None and may_act_in(owner)):
        raise InvalidEventError(
            f"bucket belongs to account {owner}, the function runs in {function_account_id}"
            + (" and that account is not in memberAccounts" if may_act_in is not None else "")
        )


def check_event(
    event: NonComplianceEvent,
    function_account_id: str | None,
    may_act_in: Callable[[str], bool] | None = None,
) -> None:
    check_bucket_name(event.bucket)
    check_region_id(event.region_id)
    check_account(event, function_account_id, may_act_in)
