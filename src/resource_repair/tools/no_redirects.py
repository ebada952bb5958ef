"""The FC API's SDKs never follow a redirect.

Both would: aliyun-fc2 sends each request through a new ``requests`` session, and
alibabacloud-fc20230330 (through darabonba) through a cached one, both with requests'
default of following a 3xx, and requests carries every header but ``Authorization`` to the
new host, ``x-fc-security-token`` among them. FC's endpoints do not redirect API calls, so
whatever answered with a 3xx is not FC as we know it: the answer is a failure, and nothing
is sent anywhere else.

Each SDK is changed once per process, in place (neither lets its caller pass a session
or a redirect policy); doing it again is harmless.
"""

from __future__ import annotations

import functools
from typing import Any

REFUSED = "a redirect, not followed so that the credentials go to no other host"


def refuse_fc2_redirects(fc2: Any) -> None:
    """Make aliyun-fc2 (the module ``fc2``) send without following redirects, and raise
    its own FcError for a 3xx answer, as for any other refusal."""
    client_module = fc2.client
    send = client_module.requestWithTry
    if getattr(send, "refuses_redirects", False):
        return

    @functools.wraps(send)
    def request_without_redirects(method: str, url: str, **kwargs: Any) -> Any:
        response = send(method, url, **{**kwargs, "allow_redirects": False})
        if 300 <= response.status_code < 400:
            raise fc2.fc_exceptions.FcError(
                REFUSED,
                response.status_code,
                "Redirect",
                response.headers.get("x-fc-request-id", ""),
            )
        return response

    request_without_redirects.refuses_redirects = True  # type: ignore[attr-defined]
    client_module.requestWithTry = request_without_redirects


def refuse_tea_redirects() -> None:
    """Make darabonba's sessions (alibabacloud-fc20230330's transport) stop at a 3xx: with
    ``max_redirects`` 0, requests raises TooManyRedirects before it sends anything to the
    new location, which darabonba hands on as a RetryError naming the redirect."""
    from darabonba.core import DaraCore

    get_session = DaraCore._get_session
    if getattr(get_session, "refuses_redirects", False):
        return

    @functools.wraps(get_session)
    def session_without_redirects(*args: Any, **kwargs: Any) -> Any:
        session = get_session(*args, **kwargs)
        session.max_redirects = 0
        return session

    session_without_redirects.refuses_redirects = True  # type: ignore[attr-defined]
    DaraCore._get_session = staticmethod(session_without_redirects)


def is_refused_redirect(text: str) -> bool:
    """Whether an SDK's error text is requests' TooManyRedirects for a refused 3xx."""
    return "Exceeded 0 redirects" in text
