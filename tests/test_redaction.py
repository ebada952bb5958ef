"""The redactor that keeps credentials out of logs."""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import json
import logging
import re
import string
import uuid
from urllib.parse import quote, unquote

import oss2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resource_repair.credentials import Credentials
from resource_repair.errors import PermanentOssError
from resource_repair.oss_client import BucketClient, oss_endpoint
from resource_repair.redaction import MASK, SecretRedactor, protect_logs
from resource_repair.retry import Deadline
from resource_repair.testing import DEFAULT_CREDENTIALS, OssBackend
from tests.conftest import BUCKET, REGION, Invoke, load_event


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


# -- every encoding ----------------------------------------------------------------------

# What credentials are made of: key ids, secrets and STS tokens (base64 with "+/=").
_SECRETS = st.text(
    alphabet=string.ascii_letters + string.digits + "+/=._-", min_size=8, max_size=48
)


def _hex_runs_decoded(text: str) -> list[bytes]:
    """Every stretch of hex digits in ``text`` (spaces between pairs allowed), decoded at
    both alignments: what a reader could turn back into bytes."""
    decoded = []
    for run in re.findall(r"[0-9A-Fa-f][0-9A-Fa-f ]*", text):
        digits = run.replace(" ", "")
        for start in (0, 1):
            usable = digits[start:]
            decoded.append(bytes.fromhex(usable[: len(usable) // 2 * 2]))
    return decoded


def _base64_runs_decoded(text: str) -> list[bytes]:
    """Every stretch of base64 characters in ``text``, decoded at each of the four
    alignments and with both alphabets."""
    decoded = []
    for run in re.findall(r"[A-Za-z0-9+/_-]+", text):
        for start in range(4):
            usable = run[start:]
            usable = usable[: len(usable) // 4 * 4]
            standard = usable.replace("-", "+").replace("_", "/")
            with contextlib.suppress(binascii.Error):
                decoded.append(base64.b64decode(standard, validate=True))
    return decoded


def _core(secret: str) -> bytes:
    """The secret without its first and last byte: a base64 character shared with the
    text around it may keep a few of their bits, never a whole byte of the inside."""
    return secret.encode()[1:-1]


@given(secret=_SECRETS, before=st.binary(max_size=7), after=st.binary(max_size=7))
def test_a_secret_in_hex_is_masked_in_either_case_and_spacing(
    secret: str, before: bytes, after: bytes
) -> None:
    redactor = SecretRedactor()
    redactor.remember([secret])
    raw = before + secret.encode() + after
    for shown in (raw.hex(), raw.hex().upper(), " ".join(f"{b:02X}" for b in raw)):
        redacted = redactor.redact(f"StringToSignBytes: {shown} end")
        assert not any(_core(secret) in run for run in _hex_runs_decoded(redacted)), redacted


@given(
    secret=_SECRETS,
    separator=st.sampled_from(["", " ", ":", "-"]),
    prefix=st.sampled_from(["", "\\x", "0x"]),
    upper=st.booleans(),
)
def test_a_secret_in_hex_is_masked_as_any_dump_writes_it(
    secret: str, separator: str, prefix: str, upper: bool
) -> None:
    """ "41:42", "41-42", "\\x41\\x42", "0x41 0x42": what hexdump, openssl, Python's
    bytes.hex(sep) and C-style dumps print."""
    redactor = SecretRedactor()
    redactor.remember([secret])
    digits = [f"{b:02X}" if upper else f"{b:02x}" for b in secret.encode()]
    redacted = redactor.redact(f"dump: {separator.join(prefix + d for d in digits)} end")
    plain = re.sub(r"\\x|0x|[ :-]", "", redacted)
    assert not any(_core(secret) in run for run in _hex_runs_decoded(plain)), redacted


@given(secret=_SECRETS, upper=st.booleans(), percent=st.booleans(), backslashes=st.integers(1, 3))
def test_a_secret_with_every_character_escaped_is_masked(
    secret: str, upper: bool, percent: bool, backslashes: int
) -> None:
    """A JSON writer that escapes every character ("\\u0041"), also inside a JSON document
    quoted in another ("\\\\u0041"), or an encoder that percent-encodes every byte ("%41"),
    letters and digits included."""
    redactor = SecretRedactor()
    redactor.remember([secret])
    if percent:
        shown = "".join(f"%{b:02X}" if upper else f"%{b:02x}" for b in secret.encode())
    else:
        prefix = "\\" * backslashes + "u"
        shown = "".join(
            f"{prefix}{ord(c):04X}" if upper else f"{prefix}{ord(c):04x}" for c in secret
        )
    redacted = redactor.redact(f"value: {shown} end")
    escape = re.compile(r"\\+u([0-9A-Fa-f]{4})")
    readable = unquote(redacted) if percent else escape.sub(lambda m: chr(int(m[1], 16)), redacted)
    assert secret[1:-1] not in readable, redacted


@given(
    secret=_SECRETS,
    before=st.binary(max_size=64),
    width=st.sampled_from([64, 76]),
    line_end=st.sampled_from(["\n", "\r\n"]),
    escaped=st.booleans(),
)
def test_a_secret_in_base64_broken_into_lines_is_masked(
    secret: str, before: bytes, width: int, line_end: str, escaped: bool
) -> None:
    """MIME (76 characters a line) and PEM (64) break base64 anywhere, also inside a secret;
    a JSON or repr() dump shows the line ends escaped."""
    redactor = SecretRedactor()
    redactor.remember([secret])
    text = base64.b64encode(before + secret.encode()).decode()
    shown = line_end.join(text[i : i + width] for i in range(0, len(text), width))
    if escaped:
        shown = json.dumps(shown)[1:-1]
    redacted = redactor.redact(f"body: {shown} end")
    joined = re.sub(r"\r|\n|\\r|\\n", "", redacted)
    assert not any(_core(secret) in run for run in _base64_runs_decoded(joined)), redacted


@given(
    secret=_SECRETS,
    before=st.binary(max_size=8),
    after=st.binary(max_size=8),
    url_safe=st.booleans(),
)
def test_a_secret_in_base64_is_masked_at_every_alignment_of_a_longer_text(
    secret: str, before: bytes, after: bytes, url_safe: bool
) -> None:
    redactor = SecretRedactor()
    redactor.remember([secret])
    encode = base64.urlsafe_b64encode if url_safe else base64.b64encode
    shown = encode(before + secret.encode() + after).decode()
    redacted = redactor.redact(f"x-oss-err: {shown}")
    assert not any(_core(secret) in run for run in _base64_runs_decoded(redacted)), redacted


@given(secret=_SECRETS, lower=st.booleans(), twice=st.booleans())
def test_a_secret_percent_encoded_once_or_twice_in_either_case_is_masked(
    secret: str, lower: bool, twice: bool
) -> None:
    redactor = SecretRedactor()
    redactor.remember([secret])
    shown = quote(secret, safe="")
    if twice:
        shown = quote(shown, safe="")
    if lower:
        shown = re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), shown)
    redacted = redactor.redact(f"signed string POST&%2F&Signature%3Dx%26T%3D{shown}&x=1")
    assert secret not in unquote(unquote(redacted))


# -- OSS's echo of what it signed -----------------------------------------------------------


def _signature_mismatch(fake_oss: OssBackend) -> None:
    """The fake OSS knows the function's key id and token with another secret: every
    request is answered SignatureDoesNotMatch, which echoes the string to sign."""
    fake_oss.register_credentials(
        dataclasses.replace(DEFAULT_CREDENTIALS, access_key_secret="AnotherSecretEntirely00")
    )


def _every_encoding(secret: str) -> list[str]:
    raw = secret.encode()
    return [
        secret,
        quote(secret, safe=""),
        raw.hex(),
        raw.hex().upper(),
        " ".join(f"{b:02x}" for b in raw),
        " ".join(f"{b:02X}" for b in raw),
    ]


def test_a_signature_mismatch_logs_no_token_in_any_encoding_and_no_string_to_sign(
    fake_oss: OssBackend, invoke: Invoke, caplog: pytest.LogCaptureFixture
) -> None:
    # With STS keys OSS's string to sign holds the token, echoed in clear and in hex.
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    _signature_mismatch(fake_oss)
    caplog.set_level(logging.DEBUG)
    result = invoke(load_event("noncompliance-oss-plain.json"))
    assert (result["outcome"], fake_oss.acl_of(BUCKET)) == ("failed", "public-read")
    assert "SignatureDoesNotMatch" in result["reason"]
    # oss2 dumps every error answer at INFO: the package says the same in its own words.
    assert not [r for r in caplog.records if r.name == "oss2.api" and r.levelno >= logging.INFO]
    shown = caplog.text + json.dumps(result)
    for name in ("StringToSign", "SignatureProvided"):
        assert name not in shown
    for encoded in _every_encoding(DEFAULT_CREDENTIALS.security_token):
        assert encoded not in shown


def test_the_oss_error_we_return_carries_no_signature_echo(fake_oss: OssBackend) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    _signature_mismatch(fake_oss)
    client = BucketClient(
        Credentials(
            DEFAULT_CREDENTIALS.access_key_id,
            DEFAULT_CREDENTIALS.access_key_secret,
            DEFAULT_CREDENTIALS.security_token,
        ),
        oss_endpoint(REGION, internal=False),
        BUCKET,
        5.0,
        deadline=Deadline(30.0),
    )
    with pytest.raises(PermanentOssError) as caught:
        client.get_state()
    assert caught.value.code == "SignatureDoesNotMatch"
    # Whoever logs the error with its cause (a traceback) shows the oss2 exception too.
    original = caught.value.__cause__
    assert isinstance(original, oss2.exceptions.OssError)
    for text in (str(caught.value), str(original), repr(original.details), str(original.body)):
        for name in ("StringToSign", "SignatureProvided"):
            assert name not in text
        for encoded in _every_encoding(DEFAULT_CREDENTIALS.security_token):
            assert encoded not in text


def test_a_logged_traceback_is_masked_too(caplog: pytest.LogCaptureFixture) -> None:
    protect_logs(["TracebackToken12345"])
    caplog.set_level(logging.INFO)
    try:
        raise RuntimeError("token " + b"TracebackToken12345".hex())
    except RuntimeError:
        logging.getLogger("resource_repair.handler").exception("unexpected error")
    assert b"TracebackToken12345".hex() not in caplog.text
    assert "RuntimeError" in caplog.text


def test_threads_that_log_while_others_remember_new_keys_are_never_broken() -> None:
    # The sweep's workers log while member sessions (and renewed keys) are remembered.
    import threading

    redactor = SecretRedactor()
    errors: list[BaseException] = []
    stop = threading.Event()

    def log_lines() -> None:
        try:
            while not stop.is_set():
                assert "secret-0000-aaaa" not in redactor.redact("key secret-0000-aaaa here")
        except BaseException as exc:
            errors.append(exc)

    redactor.remember(["secret-0000-aaaa"])
    readers = [threading.Thread(target=log_lines) for _ in range(4)]
    for reader in readers:
        reader.start()
    for number in range(400):
        redactor.remember([f"secret-{number:04d}-bbbb", "secret-0000-aaaa"])
    stop.set()
    for reader in readers:
        reader.join()
    assert errors == []
    # The first key stays masked: every set remembered since holds it too.
    assert MASK in redactor.redact("secret-0000-aaaa")


def test_a_hub_sweeping_many_member_accounts_keeps_its_own_keys_masked() -> None:
    # The hub's keys are remembered again before each use, between the member sessions'
    # keys: only the sets not used for longest may be forgotten.
    redactor = SecretRedactor()
    hub = ["STS.hubkeyid00000000", "hub-secret-0000000000", "hub-token-000000000000"]
    line = "signed with " + " and ".join(hub)
    for member in range(12):
        redactor.remember(hub)
        redactor.remember([f"STS.member{member:02d}keyid", f"member-{member:02d}-secret-value"])
        # The hub's workers log with its keys at any moment, not only right after a remember.
        assert redactor.redact(line) == "signed with " + " and ".join([MASK] * 3), member
    # The member sessions used longest ago are the ones forgotten; the latest are masked.
    assert MASK in redactor.redact("member-11-secret-value")


def test_the_newest_keys_are_masked_after_many_rotations() -> None:
    # A warm instance sees its role's keys rotate, and a hub learns many member sessions:
    # what the bound on remembered keys drops is the oldest, never the keys in use now.
    redactor = SecretRedactor()
    for rotation in range(3 * 8):
        redactor.remember([f"RotatedSecret{rotation:04d}DoNotLog"])
    assert "RotatedSecret0023DoNotLog" not in redactor.redact("key RotatedSecret0023DoNotLog")


def test_an_oss_clients_keys_are_masked_from_the_moment_it_is_built(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # oss2 logs at DEBUG on its own loggers, and OSS echoes what it signed (the token in
    # hex): whatever an SDK shows of the keys, no header rule alone would catch it.
    fresh = Credentials("STS.FreshKeyId", f"Secret{uuid.uuid4().hex}", f"Tok{uuid.uuid4().hex}")
    BucketClient(fresh, oss_endpoint(REGION, internal=False), BUCKET, 5.0, deadline=Deadline(30))
    caplog.set_level(logging.DEBUG)
    for secret in fresh.secrets:
        logging.getLogger("oss2.http").debug("sent %s", secret)
        logging.getLogger("oss2.api").info("echo %s", secret.encode().hex())
    for secret in fresh.secrets:
        assert secret not in caplog.text
        assert secret.encode().hex() not in caplog.text


@pytest.mark.parametrize("end", ["\r", "\n", "\t", " \r\n"])
def test_a_key_read_with_a_line_end_is_masked_as_repr_quotes_it_and_without_it(end: str) -> None:
    """A key exported from a file with Windows line ends keeps its "\\r"; an error quoting it
    with repr() writes the "\\r" as two characters, and a server accepts it without."""
    redactor = SecretRedactor()
    core = "TokenFromACrlfFile0123456789abcdef"
    redactor.remember([core + end])
    for shown in (repr(core + end), json.dumps(core + end), f"token {core} stripped"):
        assert core not in redactor.redact(shown), shown
