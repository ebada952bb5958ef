"""No FC API client of ours follows a redirect: requests would carry x-fc-security-token to
whatever host the ``Location`` names. Tried on loopback: the first server answers with a
redirect to a second one, which must see nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from resource_repair.credentials import Credentials
from resource_repair.testing import DEFAULT_CREDENTIALS
from resource_repair.testing.hostile_http import HostileHttpServer, Redirect, recording_server
from resource_repair.tools import remote
from resource_repair.tools.doctor.findings import CheckError
from resource_repair.tools.doctor.transports import FcClient
from resource_repair.tools.remote import RemoteInvocation, remote_invoke

CREDENTIALS = Credentials(
    DEFAULT_CREDENTIALS.access_key_id,
    DEFAULT_CREDENTIALS.access_key_secret,
    DEFAULT_CREDENTIALS.security_token,
)
ACCOUNT = DEFAULT_CREDENTIALS.account_id


@pytest.fixture(params=[301, 302, 307, 308])
def redirected(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[int, HostileHttpServer]]:
    """The FC API's endpoint answers every request with a redirect to ``elsewhere``
    (yielded with the status), a loopback server that records who comes."""
    status = int(request.param)
    with recording_server() as elsewhere:
        move = Redirect(status, f"{elsewhere.url}/2016-08-15/services/s/functions/f/invocations")
        with HostileHttpServer(lambda *_: (500, {}, b""), then=move) as server:
            monkeypatch.setattr(remote, "fc_endpoint", lambda account, region: server.url)
            yield status, elsewhere
    assert (elsewhere.exchanges, elsewhere.connections) == ([], 0)


@pytest.mark.parametrize("fc_version", [2, 3])
def test_remote_invoke_fails_on_a_redirect_and_sends_nothing_elsewhere(
    redirected: tuple[int, HostileHttpServer], fc_version: int
) -> None:
    status, elsewhere = redirected
    out, err = io.StringIO(), io.StringIO()
    invocation = RemoteInvocation(
        b"{}", ACCOUNT, "cn-hangzhou", "svc", "fn", function_timeout=5, fc_version=fc_version
    )
    assert remote_invoke(invocation, CREDENTIALS, out, err) == 1
    assert out.getvalue() == ""
    [line] = err.getvalue().splitlines()
    assert "redirect, not followed" in line
    if fc_version == 2:
        assert f"HTTP {status}" in line
    assert (elsewhere.exchanges, elsewhere.connections) == ([], 0)


def test_doctor_reads_nothing_through_a_redirect(
    redirected: tuple[int, HostileHttpServer],
) -> None:
    status, elsewhere = redirected
    client = FcClient(CREDENTIALS, ACCOUNT, "cn-hangzhou")
    with pytest.raises(CheckError, match=f"GetService: HTTP {status} Redirect"):
        client.call("GetService", lambda fc: fc.get_service("svc"))
    assert (elsewhere.exchanges, elsewhere.connections) == ([], 0)
