"""The redactor that keeps credentials out of logs."""

from __future__ import annotations

import logging

import pytest

from resource_repair.redaction import MASK, SecretRedactor, protect_logs


def test_header_values_are_masked_even_for_unknown_secrets() -> None:
    redactor = SecretRedactor()
    line = (
        "headers: {'x-oss-security-token': 'CAISabc',"
        " 'authorization': 'OSS STS.k:sig=', 'date': 'x'}"
    )
    redacted = redactor.redact(line)
    assert "CAISabc" not in redacted
    assert "sig=" not in redacted
    assert "'date': 'x'" in redacted


def test_remembered_secrets_are_masked_anywhere() -> None:
    redactor = SecretRedactor()
    redactor.remember(["STS.keyid12345", "secret-value-123", ""])
    assert redactor.redact("id STS.keyid12345 then secret-value-123.") == f"id {MASK} then {MASK}."


def test_a_token_quoted_once_or_twice_in_a_signed_url_is_masked() -> None:
    # An SDK quotes the signed URL in its errors (once), and a server echoing its string to
    # sign quotes it again: a token with "/", "+" and "=" must not survive either form.
    from urllib.parse import quote

    token = "CAIS+abc/def==token"
    redactor = SecretRedactor()
    redactor.remember([token])
    once = quote(token, safe="")
    twice = quote(once, safe="")
    for text in (f"SecurityToken={once}&x=1", f"SecurityToken%3D{twice}%26x"):
        assert once not in redactor.redact(text)
        assert twice not in redactor.redact(text)


def test_short_values_are_not_treated_as_secrets() -> None:
    redactor = SecretRedactor()
    redactor.remember(["a", "abc"])
    assert redactor.redact("a cat and abc") == "a cat and abc"


def test_filter_rewrites_records_on_oss2_child_loggers(caplog: pytest.LogCaptureFixture) -> None:
    protect_logs(["TopSecretToken123"])
    with caplog.at_level(logging.DEBUG, logger="oss2.http"):
        logging.getLogger("oss2.http").debug("token %s", "TopSecretToken123")
    assert caplog.records[-1].getMessage() == f"token {MASK}"


def test_records_whose_arguments_do_not_format_survive() -> None:
    record = logging.LogRecord("oss2.api", logging.DEBUG, __file__, 1, "%d items", ("x",), None)
    assert SecretRedactor().filter(record)
    assert "%d items" in record.getMessage()
