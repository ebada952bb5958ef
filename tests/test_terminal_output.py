"""terminal.py: what the tools print of text from outside, as an operator's terminal shows it."""

from __future__ import annotations

import base64
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from resource_repair.cli import main
from resource_repair.redaction import protect_logs
from resource_repair.testing import DEFAULT_CREDENTIALS, fc_environment
from resource_repair.testing.sts import StsBackend, fake_sts_server
from resource_repair.tools.terminal import shown_block, shown_line

SECRET = "TerminalSecretDoNotShow0123456789abcdef"


def test_a_line_keeps_its_columns_and_loses_its_breaks() -> None:
    assert shown_line("ok    rule   \r\n  found\tthere") == "ok    rule found there"


def test_a_secret_broken_over_lines_is_masked_before_the_line_is_folded() -> None:
    protect_logs([SECRET])
    encoded = base64.b64encode(SECRET.encode()).decode()
    text = f"answer: {encoded[:20]}\n{encoded[20:]} end"
    assert encoded[:20] not in shown_line(text)
    assert encoded[20:] not in shown_line(text)


def test_a_long_line_is_cut_and_the_rest_counted() -> None:
    assert shown_line("x" * 1500) == "x" * 1000 + "... (500 more characters)"


# What terminals act on or cannot encode: controls (C0, DEL, C1), format characters (the
# bidirectional overrides), line and paragraph separators, lone surrogates.
ACTED_ON = {"Cc", "Cf", "Zl", "Zp", "Cs"}


@given(st.text())
@example("bytes a decoder could not read: \udcff\udc80")  # hypothesis's text() has none
@example("\x1b]0;title\x07\x1b[2J\r\u202e\u2028\x85")
def test_nothing_a_terminal_acts_on_is_left(text: str) -> None:
    for shown in (shown_line(text), shown_block(text)):
        assert not any(unicodedata.category(c) in ACTED_ON for c in shown if c not in "\n\t"), repr(
            shown
        )
    assert "\n" not in shown_line(text)
    shown_line(text).encode("utf-8")  # lone surrogates escaped: any terminal can print it


def test_whoami_shows_what_sts_says_as_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = StsBackend()
    backend.arns[DEFAULT_CREDENTIALS.access_key_id] = (
        "acs:ram::1:user/x\x1b[2J\r\u202e" + "A" * 5000
    )
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    with fake_sts_server(backend) as server:
        assert main(["whoami", "--sts-endpoint", server.url.removeprefix("http://")]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert "\x1b" not in line
    assert "\r" not in line
    assert "\u202e" not in line
    assert line.endswith(" more characters)")  # cut, not 5,000 characters on one line
    assert len(line) < 1100


def test_an_error_line_shows_a_file_name_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "-f", "/no/such/dir/\x1b[2Jevent\r.json"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "\x1b" not in line
    assert "\r" not in line
    assert "cannot read event file /no/such/dir/\\x1b[2Jevent" in line
