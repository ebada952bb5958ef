"""What remote-invoke prints of FC's answers: the operator's terminal is not the server's.

An error message, the function's log tail and its result are text from FC. A server that
echoes the request can echo the security token; an escape sequence or a carriage return in
it could rewrite what the terminal shows. Both FC APIs are tried.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import pytest

from resource_repair.cli import main
from resource_repair.testing import DEFAULT_CREDENTIALS
from resource_repair.testing.fc3_api import Fc3ApiBackend
from resource_repair.testing.fc_api import FcApiBackend, FunctionAnswer
from tests.conftest import EVENTS, deploy_event_function

# The FC 3.0 SDK's signer calls datetime.utcnow(), deprecated in Python 3.12: its concern.
pytestmark = [
    pytest.mark.usefixtures("offline", "function_env"),
    pytest.mark.filterwarnings(
        "ignore:datetime.datetime.utcnow:DeprecationWarning:alibabacloud_tea_openapi"
    ),
]

ROOT = Path(__file__).parent.parent
TEMPLATES = {2: str(ROOT / "template.yml"), 3: str(ROOT / "template.fc3.yml")}
EVENT = str(EVENTS / "noncompliance-oss-stream.txt")
TOKEN = DEFAULT_CREDENTIALS.security_token
SECRET = DEFAULT_CREDENTIALS.access_key_secret
# A server's message that echoes the token (as sent, and every character escaped), then
# clears the screen, returns to the start of the line and overwrites it.
HOSTILE = (
    f"token {TOKEN} is invalid; as JSON"
    f" {''.join(f'{chr(92)}u{ord(c):04x}' for c in TOKEN)};"
    f" as a query {urllib.parse.quote(SECRET, safe='')}\x1b[2J\rall fine\x07\u202e"
)


def assert_safe_for_a_terminal(text: str) -> None:
    for secret in (TOKEN, SECRET, urllib.parse.quote(SECRET, safe="")):
        assert secret not in text
    assert "".join(f"u{ord(c):04x}" for c in TOKEN[:4]) not in text.replace("\\", "")
    for control in ("\x1b", "\r", "\x07", "\u202e"):
        assert control not in text


def test_an_error_that_echoes_the_request_is_shown_masked_and_escaped(
    capsys: pytest.CaptureFixture[str], fc: tuple[int, FcApiBackend | Fc3ApiBackend]
) -> None:
    version, backend = fc
    backend.invocation_error = (403, "InvalidSecurityToken", HOSTILE)
    code = main(["remote-invoke", "-t", TEMPLATES[version], "-f", EVENT])
    captured = capsys.readouterr()
    assert code == 1
    assert_safe_for_a_terminal(captured.err + captured.out)
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, lines  # the command's own line, no SDK dump before it
    assert "InvalidSecurityToken" in lines[0]
    assert "[2J" in lines[0]  # shown, not acted on


def test_the_log_tail_and_the_result_are_shown_escaped(
    capsys: pytest.CaptureFixture[str], fc: tuple[int, FcApiBackend | Fc3ApiBackend]
) -> None:
    version, backend = fc

    def hostile(payload: bytes) -> FunctionAnswer:
        result = json.dumps({"status": "success", "note": HOSTILE}, ensure_ascii=False)
        return FunctionAnswer(result.encode(), log=f"INFO {HOSTILE}\n")

    deploy_event_function(backend, hostile)
    code = main(["remote-invoke", "-t", TEMPLATES[version], "-f", EVENT])
    captured = capsys.readouterr()
    assert code == 0
    assert_safe_for_a_terminal(captured.err + captured.out)
    assert "--- function log (tail) ---" in captured.err
    assert "all fine" in captured.err


@pytest.mark.parametrize(
    "qualifier", ["LATEST/../../../services/other", "prod?x=1", "prod#x", "", "-x", "a" * 129]
)
def test_a_qualifier_fc_cannot_have_is_refused_before_any_request(
    capsys: pytest.CaptureFixture[str],
    fc: tuple[int, FcApiBackend | Fc3ApiBackend],
    qualifier: str,
) -> None:
    version, backend = fc
    code = main(
        ["remote-invoke", "-t", TEMPLATES[version], "-f", EVENT, f"--qualifier={qualifier}"]
    )
    assert code == 2
    assert "is not a valid FC version or alias" in capsys.readouterr().err
    assert backend.invocations == []


@pytest.mark.parametrize("qualifier", ["LATEST", "3", "prod", "blue-green_2"])
def test_a_version_or_alias_is_sent(
    capsys: pytest.CaptureFixture[str],
    fc: tuple[int, FcApiBackend | Fc3ApiBackend],
    qualifier: str,
) -> None:
    version, backend = fc
    main(["remote-invoke", "-t", TEMPLATES[version], "-f", EVENT, "--qualifier", qualifier])
    capsys.readouterr()
    [call] = backend.invocations
    assert call.qualifier == qualifier


def test_the_log_tail_is_base64_as_fc_sends_it() -> None:
    # The fakes send the tail as FC does; the hostile text survives the encoding intact.
    assert HOSTILE in base64.b64decode(base64.b64encode(HOSTILE.encode())).decode()
