"""The mutants: each a realistic one-line bug in the safety code, and the tests that must
notice it. ``before`` must occur exactly once in ``path``; tests/test_mutants.py keeps the list
in step with the code.

Each names the narrowest test files (or test ids) that should notice it, so that one mutant's
run takes seconds. The mutants are the mistakes a person editing this code could make: a
condition turned around, a case forgotten, a bound left out, a registration dropped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str  # short, unique: module-what
    path: str  # relative to the clone's root
    before: str  # the exact original text
    after: str  # the bug
    why: str  # the mistake a person could make
    tests: tuple[str, ...]  # the test files (or node ids) that should notice it


_PKG = "src/resource_repair"
REDACTION = f"{_PKG}/redaction.py"
MEMBER_ACCESS = f"{_PKG}/member_access.py"
RPC = f"{_PKG}/rpc.py"
ENDPOINTS = f"{_PKG}/endpoints.py"
NO_REDIRECTS = f"{_PKG}/tools/no_redirects.py"
CUTOFF = f"{_PKG}/cutoff.py"
RETRY = f"{_PKG}/retry.py"
CONFIG_API = f"{_PKG}/config_api.py"
OSS_CLIENT = f"{_PKG}/oss_client.py"
SWEEP = f"{_PKG}/sweep.py"
SWEEP_TRIGGER = f"{_PKG}/sweep_trigger.py"
NOTIFY = f"{_PKG}/notify.py"
POLICY_ANALYSIS = f"{_PKG}/remediators/policy_analysis.py"
RESTORE = f"{_PKG}/tools/restore.py"
AUDIT_LINES = f"{_PKG}/tools/audit_lines.py"
RESTORE_RECORDS = f"{_PKG}/tools/restore_records.py"
LISTED_BUCKETS = f"{_PKG}/listed_buckets.py"
SMQ = f"{_PKG}/smq.py"
NOTIFICATION = f"{_PKG}/notification.py"
CONFIG_CALL = f"{_PKG}/config_remediation.py"
HANDLER = f"{_PKG}/handler.py"
DELIVERY = f"{_PKG}/delivery.py"
MESSAGE = f"{_PKG}/message.py"
VALIDATION = f"{_PKG}/validation.py"
_SETUP = f"{_PKG}/tools/setup"
SETUP_COMMAND = f"{_SETUP}/command.py"
SETUP_REQUEST = f"{_SETUP}/request.py"
SETUP_RULES = f"{_SETUP}/rules.py"
SETUP_DELIVERY = f"{_SETUP}/delivery.py"
SETUP_MARKS = f"{_SETUP}/marks.py"
SETUP_TEARDOWN = f"{_SETUP}/teardown.py"
SETUP_REMEDIATION = f"{_SETUP}/remediation.py"
TERMINAL = f"{_PKG}/tools/terminal.py"
FILE_BOUNDS = f"{_PKG}/tools/file_bounds.py"
TEMPLATE = f"{_PKG}/tools/template.py"
CLOUD_CREDENTIALS = f"{_PKG}/tools/cloud_credentials.py"
REMOTE = f"{_PKG}/tools/remote.py"
INTERRUPTION = f"{_PKG}/tools/interruption.py"
OPTIONS = f"{_PKG}/tools/commands/options.py"
MARKS = f"{_PKG}/tools/setup/marks.py"
CLI = f"{_PKG}/cli.py"
LOCAL_SWEEP = f"{_PKG}/tools/local_sweep.py"
_OUTSIDE_TEXT = "tests/test_outside_text_and_odd_files.py"

_REDACTION_TESTS = ("tests/test_redaction.py",)
_HUB_TESTS = ("tests/test_hub.py",)
_DNS_TESTS = ("tests/test_name_resolution.py",)
_RPC_TESTS = ("tests/test_rpc.py",)
_CONFIG_TESTS = ("tests/test_config_requests.py",)
_SWEEP_TESTS = ("tests/test_sweep_never_silent.py", "tests/test_sweep.py")
_NOTIFY_TESTS = ("tests/test_notify.py", "tests/test_failures_reach_someone.py")
_POLICY_TESTS = ("tests/test_policy_analysis.py",)
_RESTORE_TESTS = ("tests/test_restore.py",)
_CONFIG_CALL_TESTS = ("tests/test_config_remediation_call.py",)
_HANDLER_TESTS = ("tests/test_handler.py",)
_DELIVERY_TESTS = ("tests/test_delivery.py", "tests/test_handler.py")
_MESSAGE_TESTS = ("tests/test_message.py", "tests/test_handler.py")
_SETUP_TESTS = ("tests/test_setup.py", "tests/test_setup_leaves_what_is_not_its_own.py")
_SETUP_REMEDIATION_TESTS = ("tests/test_setup_remediation.py",)
_TERMINAL_TESTS = ("tests/test_terminal_output.py",)
_BOUNDS = "tests/test_files_read_to_a_bound.py"
_WRONG_SHAPE = f"{_BOUNDS}::test_a_template_of_the_wrong_shape_is_refused_by_name"
_CREDENTIALS_TESTS = ("tests/test_cloud_credentials.py",)
_REMOTE_OUTPUT_TESTS = ("tests/test_remote_invoke_output.py",)
_INTERRUPT = "tests/test_cli_interrupt.py"
_INTERRUPT_LOCK = (
    f"{_INTERRUPT}::test_ctrl_c_while_the_main_thread_holds_the_list_of_buckets_in_hand_is_heard"
)
_INTERRUPT_LINES = (
    f"{_INTERRUPT}::test_the_lines_of_ctrl_c_show_a_bucket_name_escaped_and_reach_a_real_stream"
)
_INTERRUPT_ABORT = (
    f"{_INTERRUPT}::test_the_abort_is_one_line_naming_every_bucket_in_hand_and_what_is_known_of_it"
)
# The tests written for the survivors of the run of 2026-12-05 (docs/evidence/mutation.md).
_GAPS = "tests/test_bounds_and_output_mutants.py"
_CONFIG_TRICKLE = (
    "tests/test_call_time_limits.py"
    "::test_a_trickling_config_answer_ends_the_sweep_in_time_with_its_summary"
)

MUTANTS: tuple[Mutant, ...] = (
    # -- redaction: every secret, in every encoding, on every logger -------------------------
    Mutant(
        "redaction-hex-spaced-only",
        REDACTION,
        '_HEX_SEPARATOR = "[ :-]?"',
        '_HEX_SEPARATOR = " "',
        "hex masked only when spaced, not run together or joined by : or -",
        _REDACTION_TESTS,
    ),
    Mutant(
        "redaction-base64-aligned-only",
        REDACTION,
        "for offset in range(3):",
        "for offset in range(1):",
        "base64 masked only when the secret starts a group of three bytes",
        _REDACTION_TESTS,
    ),
    Mutant(
        "redaction-percent-once-only",
        REDACTION,
        'forms += [_any_case(encoded), _any_case(quote(encoded, safe=""))]',
        "forms += [_any_case(encoded)]",
        "a token percent-encoded twice (a string to sign echoed back) is not masked",
        _REDACTION_TESTS,
    ),
    Mutant(
        "redaction-percent-upper-case-only",
        REDACTION,
        r'r"%(?i:\1)"',
        r'r"%\1"',
        "percent-encoding masked in upper-case hex only",
        _REDACTION_TESTS,
    ),
    Mutant(
        "redaction-min-length-too-long",
        REDACTION,
        "_MIN_SECRET_LENGTH = 8",
        "_MIN_SECRET_LENGTH = 40",
        "a minimum length that only tokens reach: access key secrets (30) go unmasked",
        _REDACTION_TESTS,
    ),
    Mutant(
        "redaction-keeps-oldest-sets",
        REDACTION,
        "remembered[-self._REMEMBERED_SETS :]",
        "remembered[: self._REMEMBERED_SETS]",
        "the bound keeps the first credentials learned, so rotated ones are never masked",
        _REDACTION_TESTS,
    ),
    Mutant(
        "redaction-seen-again-not-refreshed",
        REDACTION,
        "self._secret_sets = (*others, known[0])",
        "self._secret_sets = (known[0], *others)",
        "keys remembered again stay where they were first learned: a hub's own keys are dropped",
        _REDACTION_TESTS,
    ),
    Mutant(
        "redaction-traceback-unmasked",
        REDACTION,
        "record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))",
        "record.exc_text = logging.Formatter().formatException(record.exc_info)",
        "a logged traceback's text is cached unredacted",
        _REDACTION_TESTS,
    ),
    Mutant(
        "redaction-oss2-error-dump-kept",
        REDACTION,
        "return False  # oss2's dump of an error answer",
        "return True  # oss2's dump of an error answer",
        "oss2's own line for every error answer (the signing echo in it) is let through",
        _REDACTION_TESTS,
    ),
    Mutant(
        "redaction-string-to-sign-bytes-forgotten",
        REDACTION,
        'SIGNATURE_ECHO_FIELDS = ("StringToSign", "StringToSignBytes", "SignatureProvided")',
        'SIGNATURE_ECHO_FIELDS = ("StringToSign", "SignatureProvided")',
        "OSS's hex echo of the string to sign is left in errors and logs",
        _REDACTION_TESTS,
    ),
    Mutant(
        "redaction-authorization-header-forgotten",
        REDACTION,
        "securitytoken|authorization|accesskeysecret",
        "securitytoken|accesskeysecret",
        "the Authorization header's value (key id and signature) is not masked",
        _REDACTION_TESTS,
    ),
    Mutant(
        "redaction-oss2-http-logger-unprotected",
        REDACTION,
        '    "oss2.http",\n',
        "",
        "oss2.http, which logs request headers at DEBUG, gets no filter",
        _REDACTION_TESTS,
    ),
    # -- the secrets each component learns are registered with the log filter ---------------
    Mutant(
        "member-session-secrets-unregistered",
        MEMBER_ACCESS,
        "    protect_logs(credentials.secrets)\n    return MemberSession(",
        "    return MemberSession(",
        "a member account's session secret and token are not taught to the log filter",
        _HUB_TESTS,
    ),
    Mutant(
        "notify-publisher-secrets-unregistered",
        SMQ,
        "redactor = protect_logs(credentials.secrets)",
        "redactor = protect_logs()",
        "the publisher's credentials are not taught to the log filter",
        ("tests/test_notify.py",),
    ),
    Mutant(
        "oss-client-secrets-unregistered",
        OSS_CLIENT,
        "        protect_logs(credentials.secrets)\n",
        "",
        "the OSS client's credentials are not taught to the log filter",
        _REDACTION_TESTS,
    ),
    Mutant(
        "rpc-client-secrets-unregistered",
        RPC,
        "    protect_logs(credentials.secrets)\n",
        "",
        "an SDK client's credentials (Config, STS) are not taught to the log filter",
        (*_RPC_TESTS, *_HUB_TESTS),
    ),
    # -- rpc: the signer is the credentials given, never the environment --------------------
    Mutant(
        "rpc-sdk-picks-its-own-signer",
        RPC,
        "client._signer = _signer(credentials)",
        "pass",
        "the SDK's own signer is kept: the environment's keys win, and a token is dropped",
        _RPC_TESTS,
    ),
    Mutant(
        "rpc-token-dropped",
        RPC,
        "    if credentials.security_token:\n",
        "    if credentials.security_token is None:\n",
        "STS credentials signed without their token (an empty-string-versus-None slip)",
        _RPC_TESTS,
    ),
    Mutant(
        "rpc-plain-http",
        RPC,
        'request.set_protocol_type("http" if http else "https")',
        'request.set_protocol_type("http")',
        "CommonRequest's default kept: the signature and token go in clear",
        _RPC_TESTS,
    ),
    Mutant(
        "rpc-signature-echo-passed-on",
        RPC,
        'return _SIGNATURE_ECHO.sub("", str(text or "")).strip()',
        'return str(text or "").strip()',
        "a service's error message passed on whole: the echoed string to sign holds the token",
        _RPC_TESTS,
    ),
    Mutant(
        "rpc-send-unbounded",
        RPC,
        'run_within(seconds + _GRACE, lambda: client.do_action_with_exception(request), "rpc")',
        "client.do_action_with_exception(request)",
        "an SDK request bounded only by its per-read socket timeouts: a trickle holds it",
        (_CONFIG_TRICKLE,),
    ),
    Mutant(
        "rpc-eai-again-permanent",
        RPC,
        'r"Name or service not known|nodename nor servname|No address associated", re.IGNORECASE',
        r'r"Name or service not known|nodename nor servname|No address associated'
        r'|Temporary failure in name resolution", re.IGNORECASE',
        "a passing resolver failure (EAI_AGAIN) taken for a name that does not exist",
        _DNS_TESTS,
    ),
    Mutant(
        "rpc-nonexistent-name-transient",
        RPC,
        "return _NO_SUCH_NAME.search(text) is not None",
        'return "EAI_NONAME" in text',
        "a name that does not exist retried as passing trouble (the SDK gives only the text)",
        _DNS_TESTS,
    ),
    # -- the loopback validator of endpoint options -----------------------------------------
    Mutant(
        "endpoints-prefix-match",
        ENDPOINTS,
        "match = _HOST_PORT.fullmatch(value)",
        "match = _HOST_PORT.match(value)",
        "localhost:80@example.com passes: the host:port is matched at the start only",
        ("tests/test_endpoint_options.py",),
    ),
    Mutant(
        "endpoints-localhost-prefix",
        ENDPOINTS,
        'if host == "localhost":',
        'if host.startswith("localhost"):',
        "localhost.example.com is taken for this machine",
        ("tests/test_endpoint_options.py",),
    ),
    Mutant(
        "endpoints-127-prefix",
        ENDPOINTS,
        'return ipaddress.IPv4Address(host) in ipaddress.IPv4Network("127.0.0.0/8")',
        'return host.startswith("127.")',
        "127.example.com passes as a loopback address",
        ("tests/test_endpoint_options.py",),
    ),
    Mutant(
        "endpoints-port-zero",
        ENDPOINTS,
        'not 1 <= int(match["port"]) <= 65535',
        'not 0 <= int(match["port"]) <= 65535',
        "port 0 accepted",
        ("tests/test_endpoint_options.py",),
    ),
    # -- no client follows a redirect -------------------------------------------------------
    Mutant(
        "no-redirects-fc2-follows",
        NO_REDIRECTS,
        '**{**kwargs, "allow_redirects": False}',
        '**{**kwargs, "allow_redirects": True}',
        "aliyun-fc2 follows a 3xx, the security token forwarded to the new host",
        ("tests/test_fc_api_redirects.py",),
    ),
    Mutant(
        "no-redirects-fc2-only-301-302",
        NO_REDIRECTS,
        "if 300 <= response.status_code < 400:",
        "if response.status_code in (301, 302):",
        "a 307 or 308 answer is taken for FC's answer",
        ("tests/test_fc_api_redirects.py",),
    ),
    Mutant(
        "no-redirects-tea-follows-one",
        NO_REDIRECTS,
        "session.max_redirects = 0",
        "session.max_redirects = 1",
        "FC 3.0's SDK follows one redirect, the token forwarded",
        ("tests/test_fc_api_redirects.py",),
    ),
    Mutant(
        "oss-client-follows-redirects",
        OSS_CLIENT,
        "        return None\n\n\n# An adapter",
        "        return super().get_redirect_target(resp)\n\n\n# An adapter",
        "oss2's session follows a 3xx, x-oss-security-token and the body forwarded",
        ("tests/test_transport.py",),
    ),
    # -- cutoff: the bound kept from outside ------------------------------------------------
    Mutant(
        "cutoff-wait-in-milliseconds",
        CUTOFF,
        "if not wait_in_slices(done, seconds):",
        "if not wait_in_slices(done, seconds * 1000):",
        "a limit given in milliseconds: no call is ever abandoned in time",
        (_CONFIG_TRICKLE,),
    ),
    Mutant(
        "cutoff-connection-not-cut",
        CUTOFF,
        "            attempt.holds(connection)\n",
        "",
        "the pool does not say which connection a call holds: an abandoned call goes on",
        ("tests/test_transport.py",),
    ),
    # -- retry: bounded, growing waits ------------------------------------------------------
    Mutant(
        "retry-backoff-flat",
        RETRY,
        "0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1))",
        "0, min(self.max_delay, self.base_delay)",
        "the wait does not grow with each attempt",
        ("tests/test_retry.py", *_CONFIG_TESTS),
    ),
    Mutant(
        "retry-throttled-backoff-flat",
        RETRY,
        "low = self.throttled_delay * 2 ** (attempt - 1)",
        "low = self.throttled_delay",
        "after throttling, the wait does not grow with each attempt",
        ("tests/test_retry.py", *_CONFIG_TESTS),
    ),
    Mutant(
        "retry-one-attempt-too-many",
        RETRY,
        "if attempt >= self.max_attempts:",
        "if attempt > self.max_attempts:",
        "an off-by-one: one attempt more than configured",
        ("tests/test_retry.py", *_CONFIG_TESTS),
    ),
    Mutant(
        "retry-ignores-attempt-time",
        RETRY,
        "if deadline.remaining() < wait + self.request_timeout:",
        "if deadline.remaining() < wait:",
        "a retry starts that only the wait fits, not the attempt",
        ("tests/test_retry.py", *_CONFIG_TESTS),
    ),
    Mutant(
        "retry-worst-case-without-jitter",
        RETRY,
        "max(2.0 * self.throttled_delay * 2.0 ** (attempt - 1), self.max_delay)",
        "max(self.throttled_delay * 2.0 ** (attempt - 1), self.max_delay)",
        "the worst case counts a throttled wait's low end, not its jittered high end",
        ("tests/test_retry.py",),
    ),
    Mutant(
        "retry-deadline-cut-forgotten",
        RETRY,
        "return max(0.0, min(timeout, self.remaining()))",
        "return max(0.0, timeout)",
        "an attempt is given its whole timeout, past the deadline",
        ("tests/test_transport.py",),
    ),
    # -- Config: in time, throttling, pagination --------------------------------------------
    Mutant(
        "config-out-of-time-check-lax",
        CONFIG_API,
        "if deadline.remaining() < _REQUEST_SECONDS:",
        "if deadline.remaining() <= 0:",
        "a Config request starts that the time left cannot hold",
        _CONFIG_TESTS,
    ),
    Mutant(
        "config-bare-503-not-throttling",
        CONFIG_API,
        "error.throttled = status in (429, 503) or code in THROTTLING_CODES",
        "error.throttled = code in THROTTLING_CODES",
        "a bare 503 (no throttling code) retried at once, not after a throttling wait",
        _CONFIG_TESTS,
    ),
    Mutant(
        "config-5xx-permanent",
        CONFIG_API,
        "if status >= 500 or code in THROTTLING_CODES:",
        "if code in THROTTLING_CODES:",
        "a 5xx from Config taken for a refusal: not retried",
        (*_CONFIG_TESTS, "tests/test_backfill.py"),
    ),
    Mutant(
        "config-rule-pages-repeat-unchecked",
        CONFIG_API,
        "            if not new:\n                raise ConfigPaginationError(",
        "            if not found:\n                raise ConfigPaginationError(",
        "a rule listing whose pages repeat is followed as far as its TotalCount says",
        _CONFIG_TESTS,
    ),
    Mutant(
        "config-fruitless-never-reset",
        CONFIG_API,
        "fruitless = 0 if new else fruitless + 1",
        "fruitless = fruitless if new else fruitless + 1",
        "empty pages are counted over the whole listing, not in a row",
        _CONFIG_TESTS,
    ),
    Mutant(
        "config-duplicate-results-examined-twice",
        CONFIG_API,
        "continue  # listed on an earlier page: examined once per listing",
        "pass  # listed on an earlier page: examined once per listing",
        "a bucket listed on two pages is examined twice",
        ("tests/test_backfill.py",),
    ),
    Mutant(
        "config-dns-eai-again-permanent",
        CONFIG_API,
        "if names_no_host(exc.get_error_msg()):",
        'if "name" in reason:',
        "every DNS failure (EAI_AGAIN too) taken for a name that does not exist",
        _DNS_TESTS,
    ),
    # -- STS (hub mode) ---------------------------------------------------------------------
    Mutant(
        "member-out-of-time-check-lax",
        MEMBER_ACCESS,
        "if deadline.remaining() < _REQUEST_SECONDS:",
        "if deadline.remaining() <= 0:",
        "an AssumeRole starts that the time left cannot hold",
        _HUB_TESTS,
    ),
    Mutant(
        "member-throttling-permanent",
        MEMBER_ACCESS,
        "if status >= 500 or status in _SLOW_DOWN_STATUSES or code in THROTTLING_CODES:",
        "if status >= 500:",
        "STS throttling (a 400 with Throttling.*) taken for a refusal",
        _HUB_TESTS,
    ),
    Mutant(
        "member-session-used-to-its-end",
        MEMBER_ACCESS,
        "return self.expires_at - now > RENEW_MARGIN",
        "return self.expires_at > now",
        "a cached session is used until it expires, mid-fix",
        _HUB_TESTS,
    ),
    # -- OSS client -------------------------------------------------------------------------
    Mutant(
        "oss-every-dns-failure-permanent",
        OSS_CLIENT,
        "return current.errno in _NO_SUCH_HOST",
        "return True",
        "a passing resolver failure (EAI_AGAIN) fails the bucket for good",
        _DNS_TESTS,
    ),
    Mutant(
        "oss-503-permanent",
        OSS_CLIENT,
        "if status >= 500 or status == 429:",
        "if status == 500 or status == 429:",
        "OSS's 503 throttling (MetaOperationQpsLimitExceeded) not retried",
        ("tests/test_retry.py", "tests/test_faults.py"),
    ),
    Mutant(
        "oss-signature-echo-kept",
        OSS_CLIENT,
        "details.pop(name, None)",
        "details.get(name)",
        "the error we return keeps OSS's echo of the string to sign",
        _REDACTION_TESTS,
    ),
    # -- the sweep --------------------------------------------------------------------------
    Mutant(
        "sweep-complete-ignores-listing",
        SWEEP,
        "return self.listed_all and not self.skipped and self.error is None",
        "return not self.skipped and self.error is None",
        "a listing stopped at the deadline counts as complete",
        _SWEEP_TESTS,
    ),
    Mutant(
        "sweep-out-of-time-listing-complete",
        SWEEP,
        "            except ConfigOutOfTimeError:\n                return\n",
        "            except ConfigOutOfTimeError:\n                rule.listed_all = True\n",
        "a listing cut by the deadline marked as listed to the end",
        _SWEEP_TESTS,
    ),
    Mutant(
        "sweep-stops-after-config-error",
        SWEEP,
        "                rule.error = str(exc)\n",
        "                rule.error = str(exc)\n                return\n",
        "one rule's Config error stops the other rules",
        _SWEEP_TESTS,
    ),
    Mutant(
        "sweep-incomplete-is-success",
        SWEEP,
        "failed=not complete,",
        "failed=False,",
        "a sweep that left buckets unreached reports success",
        _SWEEP_TESTS,
    ),
    Mutant(
        "sweep-hub-budget-without-assume-role",
        LISTED_BUCKETS,
        "budget += worst_case_seconds(settings.max_attempts)",
        "budget += settings.oss_retry.request_timeout",
        "hub mode's per-bucket budget counts one request for AssumeRole, not its retries",
        _SWEEP_TESTS,
    ),
    Mutant(
        "sweep-time-check-against-fc-timeout",
        SWEEP,
        "if budget <= available:",
        "if budget <= timeout:",
        "the time check compares with FC's timeout, not the time the sweep has",
        _SWEEP_TESTS,
    ),
    Mutant(
        "sweep-block-public-access-one-call",
        LISTED_BUCKETS,
        "        calls += 3\n",
        "        calls += 1\n",
        "Block Public Access counted as one call, not read, write and read-back",
        _SWEEP_TESTS,
    ),
    Mutant(
        "sweep-starts-bucket-without-time",
        SWEEP,
        "        if deadline.remaining() < budget:\n            return None",
        "        if deadline.remaining() <= 0:\n            return None",
        "a bucket starts that the time left cannot finish",
        _SWEEP_TESTS,
    ),
    Mutant(
        "sweep-one-fix-per-bucket",
        SWEEP,
        "key = (event.bucket, event.region_id, fix_of(event, settings))",
        'key = (event.bucket, event.region_id, "")',
        "a bucket two rules report gets only the first rule's fix",
        (*_SWEEP_TESTS, "tests/test_failures_reach_someone.py"),
    ),
    Mutant(
        "sweep-trigger-either-timer-key",
        SWEEP_TRIGGER,
        "if all(isinstance(document.get(key), str) and document[key] for key in TIMER_KEYS):",
        "if any(isinstance(document.get(key), str) and document[key] for key in TIMER_KEYS):",
        "an event with only one of the timer's keys starts a sweep",
        _SWEEP_TESTS,
    ),
    Mutant(
        "sweep-trigger-any-sweep-key",
        SWEEP_TRIGGER,
        'if document.get("sweep") == "run":',
        'if "sweep" in document:',
        'any "sweep" key starts a sweep, not only {"sweep": "run"}',
        _SWEEP_TESTS,
    ),
    # -- notifications: retried, and undelivered said ---------------------------------------
    Mutant(
        "notify-no-retries",
        SMQ,
        "    max_attempts=5, base_delay=0.4,",
        "    max_attempts=1, base_delay=0.4,",
        "a publication SMQ refuses once is lost",
        _NOTIFY_TESTS,
    ),
    Mutant(
        "notify-network-error-not-retried",
        SMQ,
        'if kind == "MNSClientNetworkException" or isinstance(exc, OSError):',
        "if isinstance(exc, OSError):",
        "the SDK's network error (it wraps every socket error) taken for a refusal",
        _NOTIFY_TESTS,
    ),
    Mutant(
        "notify-budget-ignores-deadline",
        SMQ,
        "budget = Deadline(min(_TOTAL_BUDGET, deadline.remaining() - _RESERVE))",
        "budget = Deadline(_TOTAL_BUDGET)",
        "a publication keeps its own budget past the function's deadline",
        _NOTIFY_TESTS,
    ),
    Mutant(
        "notify-sweep-delivered-if-any",
        NOTIFY,
        "return _notified(all(sent) and not unheard)",
        "return _notified(any(sent) and not unheard)",
        "a sweep whose failure summary was not published says delivered",
        _NOTIFY_TESTS,
    ),
    Mutant(
        "notify-no-failure-topic-is-none",
        NOTIFY,
        "                return Notified.UNDELIVERED\n            return _notified(",
        "                return Notified.NONE\n            return _notified(",
        "a failure with no failureTopic reaches nobody, and the result says nothing was due",
        _NOTIFY_TESTS,
    ),
    Mutant(
        "notify-summary-names-no-bucket",
        NOTIFICATION,
        'yield {**document(head, [], buckets[:1]), "rules_not_listed": len(rules)}',
        'yield {**document(head, [], []), "rules_not_listed": len(rules)}',
        "the shortest sweep summary names no bucket",
        ("tests/test_notify.py",),
    ),
    # -- the policy analysis fails closed ---------------------------------------------------
    Mutant(
        "policy-ipv4-ranges-one-by-one",
        POLICY_ANALYSIS,
        "narrow4 = _addresses(v4) <= 1 << (32 - _WIDEST_PREFIX[4])",
        "narrow4 = all(n.prefixlen >= _WIDEST_PREFIX[4] for n in v4)",
        "IPv4 ranges judged one by one: 256 /8s narrow nothing yet pass",
        _POLICY_TESTS,
    ),
    Mutant(
        "policy-ipv6-judged-as-ipv4",
        POLICY_ANALYSIS,
        "narrow6 = _addresses(v6) <= 1 << (128 - _WIDEST_PREFIX[6])",
        "narrow6 = _addresses(v6) <= 1 << (128 - _WIDEST_PREFIX[4])",
        "IPv6 held to IPv4's /8: 2000::/8 taken to narrow",
        _POLICY_TESTS,
    ),
    Mutant(
        "policy-ipv6-around-ipv4-mapped-forgotten",
        POLICY_ANALYSIS,
        'v4.append(ipaddress.IPv4Network("0.0.0.0/0"))',
        "pass",
        "an IPv6 range that holds ::ffff:0:0/96 (every IPv4 caller) taken to narrow",
        _POLICY_TESTS,
    ),
    Mutant(
        "policy-empty-condition-list-narrows",
        POLICY_ANALYSIS,
        "if not isinstance(key, str) or not items or not all(map(_plain, items)):",
        "if not isinstance(key, str) or not all(map(_plain, items)):",
        "an empty list of source addresses taken to narrow",
        _POLICY_TESTS,
    ),
    Mutant(
        "policy-empty-condition-value-narrows",
        POLICY_ANALYSIS,
        "return bool(value.strip())",
        "return True",
        "an empty string condition value taken to narrow",
        _POLICY_TESTS,
    ),
    Mutant(
        "policy-not-principal-ignored",
        POLICY_ANALYSIS,
        'everyone = _readings(members, "notprincipal") or any(',
        "everyone = any(",
        "an Allow with NotPrincipal (everyone but those) is kept",
        _POLICY_TESTS,
    ),
    Mutant(
        "policy-last-reading-only",
        POLICY_ANALYSIS,
        "return [value for key, value in members if isinstance(key, str) and key.lower() == name]",
        "return [value for key, value in members if isinstance(key, str)"
        " and key.lower() == name][-1:]",
        "a repeated name read as json.loads reads it (the last one only)",
        _POLICY_TESTS,
    ),
    Mutant(
        "policy-allow-in-every-reading",
        POLICY_ANALYSIS,
        'if not any(_is(effect, "allow") for effect in _readings(members, "effect")):',
        'if not all(_is(effect, "allow") for effect in _readings(members, "effect")):',
        "a statement that is Allow in one reading and Deny in another is kept",
        _POLICY_TESTS,
    ),
    Mutant(
        "policy-deny-in-every-reading",
        POLICY_ANALYSIS,
        'any(_is(e, "deny") for e in _readings(members, "effect"))',
        'all(_is(e, "deny") for e in _readings(members, "effect"))',
        "a statement that is also a Deny in one reading is removed without a word",
        _POLICY_TESTS,
    ),
    Mutant(
        "policy-one-narrowing-condition-enough",
        POLICY_ANALYSIS,
        "return not conditions or not all(_narrowed(condition) for condition in conditions)",
        "return not conditions or not any(_narrowed(condition) for condition in conditions)",
        "of two Condition spellings, one that narrows is taken for the whole statement",
        _POLICY_TESTS,
    ),
    Mutant(
        "policy-repeated-operator-narrows",
        POLICY_ANALYSIS,
        "if not operators or _repeats(operators):",
        "if not operators:",
        "a condition with an operator given twice taken to narrow",
        _POLICY_TESTS,
    ),
    Mutant(
        "policy-question-mark-pattern-narrows",
        POLICY_ANALYSIS,
        'for c in "*?"):',
        'for c in "*"):',
        "a ? pattern in a source VPC or key id taken to name particular callers",
        _POLICY_TESTS,
    ),
    # -- restore: what it reads, which fix it undoes, where it writes, and the read-back ------
    Mutant(
        "restore-no-read-back",
        RESTORE,
        "wrong = _check_restored(client, changes, retry, deadline)",
        "wrong: list[str] = []",
        "the write is taken for done: a write that did not stick reports restored",
        _RESTORE_TESTS,
    ),
    Mutant(
        "restore-acl-read-back-trusts-the-write",
        RESTORE,
        "acl = retry.call(client.get_state, deadline).acl",
        "acl = changes.acl[0]",
        "the ACL read back is the one just written, not the bucket's",
        _RESTORE_TESTS,
    ),
    Mutant(
        "restore-earliest-fix",
        RESTORE_RECORDS,
        "latest = max(dated, key=lambda fix: (fix.time, fix.index))",
        "latest = min(dated, key=lambda fix: (fix.time, fix.index))",
        "the first fix of a bucket is undone, not the latest",
        _RESTORE_TESTS,
    ),
    Mutant(
        "restore-latest-by-line-order",
        RESTORE_RECORDS,
        "latest = max(dated, key=lambda fix: (fix.time, fix.index))",
        "latest = max(dated, key=lambda fix: fix.index)",
        "the last line in the file taken for the latest fix, whatever its recorded time",
        _RESTORE_TESTS,
    ),
    Mutant(
        "restore-creation-date-unchecked",
        RESTORE,
        "if state.creation_date != changes.created:",
        "if state.creation_date is None:",
        "a bucket created since under the same name gets the old bucket's settings",
        _RESTORE_TESTS,
    ),
    Mutant(
        "restore-undated-record-accepted",
        RESTORE_RECORDS,
        "return self.time is not None and self.created is not None",
        "return self.time is not None",
        "a record without the bucket's creation date is put back",
        _RESTORE_TESTS,
    ),
    Mutant(
        "restore-no-member-accounts-means-any",
        RESTORE,
        "if changes.account not in member_accounts:",
        "if member_accounts and changes.account not in member_accounts:",
        "without --member-accounts, the record chooses the account restore writes in",
        _RESTORE_TESTS,
    ),
    Mutant(
        "restore-bad-account-taken-for-own",
        RESTORE_RECORDS,
        "return owner if isinstance(owner, str) else None",
        "return owner if isinstance(owner, str) and _ACCOUNT_ID.fullmatch(owner) else None",
        "a record naming no valid account is taken for one of the caller's own buckets",
        _RESTORE_TESTS,
    ),
    Mutant(
        "restore-failed-fix-not-undone",
        RESTORE_RECORDS,
        '_CHANGING = frozenset({"remediated", "failed"})',
        '_CHANGING = frozenset({"remediated"})',
        "a fix that changed the bucket and then failed is never undone",
        _RESTORE_TESTS,
    ),
    Mutant(
        "restore-owner-unchecked",
        RESTORE,
        "if state.owner_id != account:",
        "if not state.owner_id:",
        "a bucket policy letting the caller write to another account's bucket is enough",
        _RESTORE_TESTS,
    ),
    Mutant(
        "audit-lines-sls-any-function",
        AUDIT_LINES,
        "not (isinstance(function, str) and function in functions)",
        "not isinstance(function, str)",
        "a Log Service entry of any function of the logstore is read as the remediation's",
        _RESTORE_TESTS,
    ),
    Mutant(
        "audit-lines-record-anywhere-in-a-line",
        AUDIT_LINES,
        "        match = pattern.fullmatch(line)\n",
        "        match = pattern.search(line)\n",
        "a line that only holds an audit line's text (a message's rule name) is read",
        _RESTORE_TESTS,
    ),
    Mutant(
        "audit-lines-bare-objects-in-a-log",
        AUDIT_LINES,
        "    if in_log:\n",
        "    if False:\n",
        "a bare JSON object in a log (another line's continuation) is taken for a record",
        _RESTORE_TESTS,
    ),
    Mutant(
        "audit-lines-any-package-logger",
        AUDIT_LINES,
        r'_INVOKE_LINE = re.compile(r"INFO resource_repair\.audit: (?P<record>.*)")',
        r'_INVOKE_LINE = re.compile(r"INFO resource_repair\.\w+: (?P<record>.*)")',
        "any of the package's loggers taken for the audit logger in invoke's output",
        _RESTORE_TESTS,
    ),
    # -- Config's own call (custom remediation): checked, capped, confirmed, never raising --
    Mutant(
        "config-call-entry-unchecked",
        CONFIG_CALL,
        "        check_event(event, account_id, may_act_in)\n",
        "",
        "an entry's bucket, region and owner are not checked before Config is asked",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-cap-off-by-one",
        CONFIG_CALL,
        "if position > MAX_ENTRIES:",
        "if position > MAX_ENTRIES + 1:",
        "eleven entries of one call acted on, not ten",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-past-cap-unaudited",
        CONFIG_CALL,
        "results.append(finish(EntryResult(report), notify=False))",
        "results.append(EntryResult(report))",
        "an entry past the cap gets no audit line",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-past-cap-published",
        CONFIG_CALL,
        "results.append(finish(EntryResult(report), notify=False))",
        "results.append(finish(EntryResult(report)))",
        "every entry past the cap is published: one long array floods the topic",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-same-bucket-twice",
        CONFIG_CALL,
        "        acted.add(key)\n",
        "",
        "a bucket given twice is asked about and acted on twice",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-payload-acted-on",
        CONFIG_CALL,
        "result, owner_account_id=result.owner_account_id or entry.owner_account_id",
        "entry, owner_account_id=result.owner_account_id or entry.owner_account_id",
        "the payload's entry remediated, not Config's result: no rule, no evaluation time",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-region-of-answer-unchecked",
        CONFIG_CALL,
        "if (result.bucket, result.region_id) != (entry.bucket, entry.region_id):",
        "if result.bucket != entry.bucket:",
        "Config's result for the same name in another region taken for the bucket asked about",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-owner-of-answer-unchecked",
        CONFIG_CALL,
        "        if owner and result.owner_account_id and result.owner_account_id != owner:\n"
        "            continue\n",
        "",
        "Config's result for another account's bucket of that name taken for this one",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-any-rule",
        CONFIG_CALL,
        "if any(ref in settings.rule_references for ref in result.rule_references):",
        "if result.rule_references:",
        "a NON_COMPLIANT result under any rule (not one prepareRuleName selects) acted on",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-transient-not-retried",
        CONFIG_CALL,
        'reason = f"{exc}; not retried here, the sweep tries again"\n'
        "        return EntryResult(_about(entry, Outcome.FAILED, reason), will_retry=True)",
        'reason = f"{exc}; not retried here, the sweep tries again"\n'
        "        return EntryResult(_about(entry, Outcome.FAILED, reason))",
        "transient OSS trouble's audit line says nobody tries again",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-one-defect-spoils-all",
        CONFIG_CALL,
        "    except Exception as exc:  # a defect of ours: this entry's, not the others'",
        "    except (KeyError, TypeError) as exc:  # a defect of ours: this entry's",
        "one entry's unexpected error ends the call: the other entries get no result",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-success-if-any",
        CONFIG_CALL,
        '"status": "fail" if failed else "success",',
        '"status": "fail" if failed == len(results) else "success",',
        "a call with some entries failed says success",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-endpoint-prefix-match",
        CONFIG_CALL,
        "return loopback_host_port(value, CONFIG_ENDPOINT_OVERRIDE)",
        "return value or None",
        "configEndpointOverride taken as given, never checked for this machine",
        _CONFIG_CALL_TESTS,
    ),
    Mutant(
        "config-call-bytes-not-sniffed",
        CONFIG_CALL,
        "if isinstance(event, (bytes, bytearray, memoryview)):\n        head",
        "if isinstance(event, (bytearray, memoryview)):\n        head",
        "Config's call as FC's Python runtime passes it (bytes) refused as a bad SMQ message",
        _CONFIG_CALL_TESTS,
    ),
    # -- the handler: rule selection, FC's retry ----------------------------------------------
    Mutant(
        "handler-rule-by-substring",
        HANDLER,
        "return any(ref in settings.rule_references for ref in event.rule_references)",
        'return any(ref in ",".join(settings.rule_references) for ref in event.rule_references)',
        "a rule whose name is part of a selected one (rule in my-rule) is selected",
        _HANDLER_TESTS,
    ),
    Mutant(
        "handler-any-rule",
        HANDLER,
        "if not _rule_selected(event, settings):",
        "if not event.rule_references:",
        "a result under any rule is remediated, not only prepareRuleName's",
        _HANDLER_TESTS,
    ),
    Mutant(
        "handler-transient-swallowed",
        HANDLER,
        "        raise\n    except Exception as exc:  # a defect of ours",
        "    except Exception as exc:  # a defect of ours",
        "transient OSS trouble reported as a failure: FC never delivers the message again",
        _HANDLER_TESTS,
    ),
    Mutant(
        "handler-deadline-is-fc-timeout",
        HANDLER,
        "deadline = Deadline(timeout - _RETURN_MARGIN)",
        "deadline = Deadline(timeout)",
        "OSS attempts may use FC's whole timeout: no time left for the audit line",
        (*_HANDLER_TESTS, "tests/test_call_time_limits.py"),
    ),
    # -- decoding a delivery: its limits ------------------------------------------------------
    Mutant(
        "delivery-size-in-bits",
        DELIVERY,
        "if size > MAX_EVENT_BYTES:",
        "if size > MAX_EVENT_BYTES * 8:",
        "the size limit compared in the wrong unit: a 1 MiB body is parsed",
        _DELIVERY_TESTS,
    ),
    Mutant(
        "delivery-integer-digits-unchecked",
        DELIVERY,
        "obj = json.loads(text, parse_int=_integer)",
        "obj = json.loads(text)",
        "integers of any length handed to Python, whose limit differs by runtime",
        _DELIVERY_TESTS,
    ),
    Mutant(
        "delivery-cloudevent-with-data-taken",
        DELIVERY,
        "if outer.keys() >= _CLOUDEVENT_KEYS:",
        "if outer.keys() == _CLOUDEVENT_KEYS:",
        "a CloudEvents envelope with data (every real one) read as a message and ignored",
        (*_DELIVERY_TESTS, "tests/test_fc3_delivery.py"),
    ),
    Mutant(
        "delivery-base64-lax",
        DELIVERY,
        "raw = base64.b64decode(text, validate=True)",
        "raw = base64.b64decode(text)",
        "characters outside base64 dropped silently: garbage decoded as a message",
        _DELIVERY_TESTS,
    ),
    # -- reading a message --------------------------------------------------------------------
    Mutant(
        "message-not-applicable-acted-on",
        MESSAGE,
        "if compliance is not None and compliance != NON_COMPLIANT:",
        'if compliance == "COMPLIANT":',
        "a result that is NOT_APPLICABLE (or anything but COMPLIANT) acted on",
        _MESSAGE_TESTS,
    ),
    Mutant(
        "message-legacy-change-notification-read",
        MESSAGE,
        'if "ResourceEventType" in message or "configurationItem" in message:',
        'if "configurationItem" in message:',
        "an older configuration change notification read as a non-compliance result",
        _MESSAGE_TESTS,
    ),
    Mutant(
        "message-owner-is-reporting-account",
        MESSAGE,
        'owner_account_id=_account_id(qualifier, "resourceOwnerId")\n'
        '        or _account_id(message, "accountId"),',
        'owner_account_id=_account_id(message, "accountId"),',
        "the account that reported the result taken for the bucket's owner",
        (*_MESSAGE_TESTS, "tests/test_hub.py"),
    ),
    Mutant(
        "message-earliest-evaluation-time",
        MESSAGE,
        "return max(moments, default=None)",
        "return min(moments, default=None)",
        "the earliest timestamp dates the evaluation: a bucket made since passes for the one seen",
        (*_MESSAGE_TESTS, *_CONFIG_CALL_TESTS),
    ),
    Mutant(
        "message-unicode-digits-account",
        MESSAGE,
        "if text is not None and not (text.isascii() and text.isdigit()):",
        "if text is not None and not text.isdigit():",
        "an account id of non-ASCII digits accepted",
        _MESSAGE_TESTS,
    ),
    # -- validation: what may reach a host name, and whose bucket -----------------------------
    Mutant(
        "validation-bucket-prefix-match",
        VALIDATION,
        "return _BUCKET_NAME.fullmatch(name) is not None",
        "return _BUCKET_NAME.match(name) is not None",
        "a bucket name such as abc.evil.example/# passes on its valid start",
        _HANDLER_TESTS,
    ),
    Mutant(
        "validation-region-prefix-match",
        VALIDATION,
        "not _REGION_ID.fullmatch(region)",
        "not _REGION_ID.match(region)",
        "a region id such as cn-hangzhou.evil.example/# passes on its valid start",
        _HANDLER_TESTS,
    ),
    Mutant(
        "validation-region-length-unbounded",
        VALIDATION,
        "if len(region) > _MAX_REGION_LENGTH or not",
        "if not",
        "a region id of any length passes",
        _HANDLER_TESTS,
    ),
    Mutant(
        "validation-member-accounts-ignored",
        VALIDATION,
        "if owner is not None and not (may_act_in is not None and may_act_in(owner)):",
        "if owner is not None and may_act_in is None:",
        "in hub mode, a bucket of any account is acted on, not only memberAccounts'",
        (*_HANDLER_TESTS, "tests/test_hub.py"),
    ),
    Mutant(
        "validation-owner-unchecked",
        VALIDATION,
        "    check_account(event, function_account_id, may_act_in)\n",
        "",
        "a bucket another account owns is acted on with the function's role",
        (*_HANDLER_TESTS, *_CONFIG_CALL_TESTS),
    ),
    # -- setup: plan vs apply, its own things only, Config's limits --------------------------
    Mutant(
        "setup-plan-applies",
        SETUP_COMMAND,
        "if not request.apply or failed:",
        "if failed:",
        "without --apply, the plan is carried out",
        _SETUP_TESTS,
    ),
    Mutant(
        "setup-applies-despite-fail",
        SETUP_COMMAND,
        "if not request.apply or failed:",
        "if not request.apply:",
        "--apply goes ahead although the plan has FAIL lines",
        _SETUP_TESTS,
    ),
    Mutant(
        "setup-teardown-without-template",
        SETUP_COMMAND,
        "    if setup.request.teardown:\n        return plan_teardown(setup)\n",
        "",
        "--teardown plans a setup instead",
        _SETUP_TESTS,
    ),
    Mutant(
        "setup-auto-in-dry-run",
        SETUP_REQUEST,
        'if mode == "auto" and settings.dry_run:',
        'if mode == "AUTO" and settings.dry_run:',
        "auto remediation registered while dryRun is on: Config runs it for nothing",
        _SETUP_REMEDIATION_TESTS,
    ),
    Mutant(
        "setup-only-one-bare-identifier-refused",
        SETUP_RULES,
        "if entry in KNOWN_IDENTIFIERS:",
        "if entry == READ_RULE:",
        "a managed rule's identifier other than the read rule's taken for a rule name to create",
        _SETUP_TESTS,
    ),
    Mutant(
        "setup-channel-limit-off-by-one",
        SETUP_DELIVERY,
        "if len(existing) >= MAX_CHANNELS:",
        "if len(existing) > MAX_CHANNELS:",
        "a sixth channel planned when the account has five: --apply fails half-way",
        _SETUP_TESTS,
    ),
    Mutant(
        "setup-channel-mark-by-name",
        SETUP_MARKS,
        '        channel.get("DeliveryChannelName") == CHANNEL_NAME\n'
        '        and channel.get("Description") == DESCRIPTION\n',
        '        channel.get("DeliveryChannelName") == CHANNEL_NAME\n',
        "a channel someone named like setup's taken for setup's, and torn down",
        _SETUP_TESTS,
    ),
    Mutant(
        "setup-rule-tag-key-only",
        SETUP_MARKS,
        'isinstance(t, dict) and t.get("Key") == TAG_KEY and t.get("Value") == TAG_VALUE',
        'isinstance(t, dict) and t.get("Key") == TAG_KEY',
        "a rule tagged resource-repair with any value taken for setup's, and torn down",
        _SETUP_TESTS,
    ),
    Mutant(
        "setup-teardown-unmarked-rule",
        SETUP_TEARDOWN,
        "if not rule_is_marked(rule):",
        'if not rule.get("ConfigRuleId"):',
        "teardown removes a rule of prepareRuleName that setup did not create",
        _SETUP_TESTS,
    ),
    Mutant(
        "setup-teardown-channel-of-any-topic",
        SETUP_TEARDOWN,
        "        if not channel_is_marked(channel) or not same_topic_arn(\n"
        '            channel.get("DeliveryChannelTargetArn"), arn\n'
        "        ):\n",
        "        if not channel_is_marked(channel):\n",
        "teardown removes setup's channel of another deployment (another topic or region)",
        _SETUP_TESTS,
    ),
    Mutant(
        "setup-teardown-topics-of-other-templates",
        SETUP_TEARDOWN,
        "made = [topic for topic in record.topics() if topic in wanted]",
        "made = record.topics()",
        "teardown removes the topics another template in the folder made",
        _SETUP_TESTS,
    ),
    Mutant(
        "setup-teardown-subscribed-topic-without-force",
        SETUP_TEARDOWN,
        "if others and not setup.request.force:",
        "if others and not setup.request.apply:",
        "a topic the deployed trigger subscribes to is deleted with --apply, without --force",
        _SETUP_TESTS,
    ),
    Mutant(
        "setup-remediation-unrecorded",
        SETUP_REMEDIATION,
        "    setup.record.add_remediation(rule_id, remediation_id)\n",
        "",
        "a remediation setup registered is not recorded: teardown leaves it behind",
        _SETUP_REMEDIATION_TESTS,
    ),
    Mutant(
        "setup-remediation-replaces-others",
        SETUP_REMEDIATION,
        "        if rid in ours:\n",
        "        if rid in ours or not ours:\n",
        "someone else's remediation of a rule taken for setup's",
        _SETUP_REMEDIATION_TESTS,
    ),
    # -- what the tools print of text from outside (terminal.py) -----------------------------
    Mutant(
        "terminal-line-unmasked",
        TERMINAL,
        'masked = _EDGE_BREAKS.sub("", redacted(str(text)))',
        'masked = _EDGE_BREAKS.sub("", str(text))',
        "a line from outside escaped but not masked: an echoed token printed",
        (*_TERMINAL_TESTS, *_REMOTE_OUTPUT_TESTS),
    ),
    Mutant(
        "terminal-masked-after-folding",
        TERMINAL,
        'masked = _EDGE_BREAKS.sub("", redacted(str(text)))',
        'masked = redacted(_BREAKS.sub(" ", _EDGE_BREAKS.sub("", str(text))))',
        "lines folded before masking: a secret's base64 broken over MIME lines printed",
        _TERMINAL_TESTS,
    ),
    Mutant(
        "terminal-cut-at-the-limit",
        TERMINAL,
        "    if len(line) > limit:\n",
        "    if len(line) >= limit:\n",
        "a line of exactly the limit cut, and '0 more characters' said",
        (*_TERMINAL_TESTS, f"{_GAPS}::test_a_line_of_exactly_the_limit_is_shown_whole"),
    ),
    Mutant(
        "terminal-block-crlf-escaped",
        TERMINAL,
        '_escaped(redacted(str(text).replace("\\r\\n", "\\n")), keep="\\n\\t")',
        '_escaped(redacted(str(text)), keep="\\n\\t")',
        "a log tail with CRLF line ends shown with \\x0d at every line's end",
        (
            *_TERMINAL_TESTS,
            *_REMOTE_OUTPUT_TESTS,
            f"{_GAPS}::test_a_block_with_windows_line_ends_is_shown_as_lines",
        ),
    ),
    Mutant(
        "terminal-format-characters-printed",
        TERMINAL,
        '_UNPRINTED = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})',
        '_UNPRINTED = frozenset({"Cc", "Zl", "Zp", "Cs"})',
        "only control characters escaped: a right-to-left override reorders the line",
        _TERMINAL_TESTS,
    ),
    # -- files read to a bound (file_bounds.py and its users) --------------------------------
    Mutant(
        "file-bounds-read-to-the-limit-only",
        FILE_BOUNDS,
        "data = handle.read(limit + 1)",
        "data = handle.read(limit)",
        "a file read to the limit and no further: a larger one silently cut, never refused",
        (_BOUNDS,),
    ),
    Mutant(
        "file-bounds-short-lines-uncounted",
        FILE_BOUNDS,
        "        total += len(piece)\n",
        "        total = len(piece)\n",
        "only the piece just read counted against the total: a file of short lines unbounded",
        (_BOUNDS, f"{_GAPS}::test_a_report_of_short_lines_past_the_bound_is_refused"),
    ),
    Mutant(
        "file-bounds-last-line-without-end-passed-over",
        FILE_BOUNDS,
        'if len(line) <= line_limit or line.endswith("\\n"):',
        'if len(line) <= line_limit and line.endswith("\\n"):',
        "a last line without a line end taken for an overlong one and passed over",
        (
            _BOUNDS,
            *_RESTORE_TESTS,
            f"{_GAPS}::test_a_report_whose_last_line_has_no_line_end_is_read_to_its_end",
        ),
    ),
    Mutant(
        "template-read-whole",
        TEMPLATE,
        'text = read_bytes_at_most(path, MAX_TEMPLATE_BYTES, "template").decode("utf-8")',
        'text = Path(path).read_bytes().decode("utf-8")',
        "the template read whole: -t /dev/zero fills the memory",
        (f"{_BOUNDS}::test_an_endless_template_is_refused",),
    ),
    Mutant(
        "template-list-depth-uncounted",
        TEMPLATE,
        "return [walk(v, depth + 1) for v in node]",
        "return [walk(v, depth) for v in node]",
        "a list's items not a level deeper: a list that holds itself recurses without end",
        (_WRONG_SHAPE,),
    ),
    Mutant(
        "template-mapping-depth-uncounted",
        TEMPLATE,
        "return {k: walk(v, depth + 1) for k, v in node.items()}",
        "return {k: walk(v, depth) for k, v in node.items()}",
        "a mapping's values not a level deeper: a mapping that holds itself recurses without end",
        (_WRONG_SHAPE, f"{_GAPS}::test_a_template_fc_would_not_take_is_refused_by_name"),
    ),
    Mutant(
        "template-timeout-bool-taken",
        TEMPLATE,
        "if isinstance(value, bool) or not isinstance(value, (int, str)):",
        "if not isinstance(value, (int, str)):",
        "timeout: true taken for 1 second (bool is an int)",
        (
            _WRONG_SHAPE,
            "tests/test_template.py",
            f"{_GAPS}::test_a_template_fc_would_not_take_is_refused_by_name",
        ),
    ),
    Mutant(
        "template-timeout-upper-bound-forgotten",
        TEMPLATE,
        "if not 1 <= seconds <= 86_400:",
        "if seconds < 1:",
        "a timeout past FC's 86,400 s accepted: remote-invoke waits for it",
        (
            _WRONG_SHAPE,
            "tests/test_template.py",
            f"{_GAPS}::test_a_template_fc_would_not_take_is_refused_by_name",
        ),
    ),
    Mutant(
        "template-environment-shape-unchecked",
        TEMPLATE,
        "    if not isinstance(value, dict):\n"
        '        raise TemplateError(f"template {path}: environmentVariables must be a mapping")\n',
        "",
        "a list of environment variables reaches .items(): a traceback",
        (_WRONG_SHAPE, "tests/test_template.py"),
    ),
    Mutant(
        "options-event-file-read-whole",
        OPTIONS,
        'raw = read_bytes_at_most(args.event_file, MAX_EVENT_FILE_BYTES, "event file")',
        'raw = open(args.event_file, "rb").read()  # noqa: SIM115',
        "the event file read whole: -f /dev/zero fills the memory",
        (f"{_BOUNDS}::test_an_endless_event_file_is_refused",),
    ),
    Mutant(
        "options-event-bound-at-function-limit",
        OPTIONS,
        "MAX_EVENT_FILE_BYTES = 4 * MAX_EVENT_BYTES",
        "MAX_EVENT_FILE_BYTES = MAX_EVENT_BYTES",
        "an event past the function's limit refused by the command, so the function's own"
        " refusal of it cannot be tried",
        (
            _BOUNDS,
            "tests/test_cli_edges.py",
            f"{_GAPS}::test_an_event_past_the_functions_limit_reaches_the_function_to_be_refused",
        ),
    ),
    Mutant(
        "restore-records-limits-swapped",
        RESTORE_RECORDS,
        'handle, line_limit=MAX_LINE, total_limit=MAX_REPORT, what=f"report {path}"',
        'handle, line_limit=MAX_REPORT, total_limit=MAX_LINE, what=f"report {path}"',
        "the line and total bounds swapped: a report over 1 MiB refused, a line held to 256 MiB",
        (_BOUNDS, *_RESTORE_TESTS),
    ),
    Mutant(
        "audit-lines-overlong-line-uncounted",
        AUDIT_LINES,
        "        if line is None:\n            found.passed_over += 1\n            continue\n",
        "        if line is None:\n            continue\n",
        "a line too long to read skipped without being counted as passed over",
        (f"{_BOUNDS}::test_a_report_line_longer_than_any_record_is_passed_over",),
    ),
    Mutant(
        "redaction-escape-once-only",
        REDACTION,
        '_ESCAPES = r"\\\\+"',
        '_ESCAPES = r"\\\\"',
        "a JSON escape escaped again (\\\\u0041) not masked",
        _REDACTION_TESTS,
    ),
    # -- aliyun CLI profiles (cloud_credentials.py) ------------------------------------------
    Mutant(
        "credentials-only-ramrolearn-refused",
        CLOUD_CREDENTIALS,
        "if sts_endpoint is not None and mode not in _OWN_KEYS:",
        'if sts_endpoint is not None and mode == "RamRoleArn":',
        "with --sts-endpoint, only RamRoleArn refused: another role mode goes to the real STS",
        (
            *_CREDENTIALS_TESTS,
            f"{_GAPS}::test_every_profile_that_asks_a_service_is_refused_beside_a_fake_sts",
        ),
    ),
    Mutant(
        "credentials-config-not-json-uncaught",
        CLOUD_CREDENTIALS,
        "except (FileTooLargeError, ValueError) as exc:",
        "except FileTooLargeError as exc:",
        "a config.json that is not JSON: a JSONDecodeError, not one line",
        (
            *_CREDENTIALS_TESTS,
            f"{_GAPS}::test_a_cli_config_that_is_not_json_is_said_so_in_one_line",
        ),
    ),
    Mutant(
        "credentials-not-text-any",
        CLOUD_CREDENTIALS,
        "if not all(value is None or isinstance(value, str) for value in values):",
        "if not any(value is None or isinstance(value, str) for value in values):",
        "a profile key that is not text passes when another is",
        _CREDENTIALS_TESTS,
    ),
    Mutant(
        "options-credentials-sts-endpoint-dropped",
        OPTIONS,
        "return tool_credentials(args.profile, sts_endpoint=sts_endpoint(args))",
        "return tool_credentials(args.profile)",
        "whoami's role profile exchanged at the real STS although --sts-endpoint names a fake",
        _CREDENTIALS_TESTS,
    ),
    # -- remote-invoke: names checked, FC's text shown as text (remote.py) --------------------
    Mutant(
        "remote-qualifier-prefix-match",
        REMOTE,
        "if pattern.fullmatch(name) is None:",
        "if pattern.match(name) is None:",
        "a qualifier checked on its start only: LATEST/../../services/other reaches the path",
        _REMOTE_OUTPUT_TESTS,
    ),
    Mutant(
        "remote-empty-qualifier-unchecked",
        REMOTE,
        "    if invocation.qualifier is not None:\n",
        "    if invocation.qualifier:\n",
        "an empty --qualifier= not checked",
        _REMOTE_OUTPUT_TESTS,
    ),
    Mutant(
        "remote-fc2-error-line-unescaped",
        REMOTE,
        "            shown_line(\n"
        '                f"invocation failed: HTTP {exc.status_code} {exc.err_code}"\n',
        "            str(\n"
        '                f"invocation failed: HTTP {exc.status_code} {exc.err_code}"\n',
        "FC 2.0's error message printed raw: an echoed token, escape sequences",
        _REMOTE_OUTPUT_TESTS,
    ),
    Mutant(
        "remote-error-result-unescaped",
        REMOTE,
        "        print(shown_block(text), file=err)\n",
        "        print(text, file=err)\n",
        "the answer of a function that raised printed raw on stderr",
        (
            *_REMOTE_OUTPUT_TESTS,
            "tests/test_fc3_remote.py",
            f"{_GAPS}::test_the_answer_of_a_function_that_raised_is_shown_escaped",
        ),
    ),
    Mutant(
        "remote-fc2-error-logs-by-logger-name",
        REMOTE,
        'return "fc2" not in Path(record.pathname).parts',
        'return not record.name.startswith("fc2")',
        "fc2's error logs filtered by logger name: it logs on the root logger, so all are kept",
        (
            *_REMOTE_OUTPUT_TESTS,
            f"{_GAPS}::test_fc2s_own_dump_of_a_refused_invocation_is_not_logged",
        ),
    ),
    Mutant(
        "remote-log-tail-unescaped",
        REMOTE,
        "print(shown_block(tail.rstrip()), file=err)",
        "print(tail.rstrip(), file=err)",
        "the function's log tail printed raw",
        _REMOTE_OUTPUT_TESTS,
    ),
    # -- Ctrl-C (interruption.py) -------------------------------------------------------------
    Mutant(
        "interruption-plain-lock",
        INTERRUPTION,
        "self._lock = threading.RLock()",
        "self._lock = threading.Lock()",
        "a plain lock: Ctrl-C while the main thread holds it waits for ever",
        (_INTERRUPT_LOCK,),
    ),
    Mutant(
        "interruption-say-through-the-stream",
        INTERRUPTION,
        "        with contextlib.suppress(OSError):\n"
        '            os.write(descriptor, text.encode("utf-8", errors="replace"))\n',
        '        print(text, end="", file=self._err, flush=True)\n',
        "the handler's line printed through the buffered stream: 'reentrant call' mid-write",
        (
            _INTERRUPT_LINES,
            f"{_GAPS}::test_ctrl_c_in_the_middle_of_a_write_to_the_same_stream_is_said",
        ),
    ),
    Mutant(
        "interruption-line-unescaped",
        INTERRUPTION,
        'text = shown_line(line, limit=_LINE_CHARS) + "\\n"',
        'text = line + "\\n"',
        "a bucket name from a message printed raw in Ctrl-C's lines",
        (_INTERRUPT_LINES,),
    ),
    Mutant(
        "interruption-abort-line-cut-at-1000",
        INTERRUPTION,
        'text = shown_line(line, limit=_LINE_CHARS) + "\\n"',
        'text = shown_line(line) + "\\n"',
        "the abort line cut at 1,000 characters: the last buckets in hand of a sweep not named",
        (_INTERRUPT_ABORT, f"{_GAPS}::test_the_abort_line_names_every_bucket_of_a_sweep_in_hand"),
    ),
    Mutant(
        "interruption-finished-only-not-said-aborted",
        INTERRUPTION,
        "f\"{'aborted after ' if not unfinished else ''}{names}\"",
        'f"{names}"',
        "with only finished buckets in hand, the abort line does not say it aborted",
        (
            _INTERRUPT_ABORT,
            f"{_GAPS}::test_an_abort_with_only_finished_buckets_in_hand_says_it_aborted",
        ),
    ),
    # -- the second red team's fixes: every stderr line, odd records, the unforeseen -------
    Mutant(
        "terminal-print-line-raw",
        TERMINAL,
        "print(shown_line(text), file=file, flush=flush)",
        "print(text, file=file, flush=flush)",
        "invoke's, backfill's and sweep's lines printed raw: a bucket name with a line break"
        " puts an audit record into invoke's stderr, which restore reads",
        (_OUTSIDE_TEXT,),
    ),
    Mutant(
        "template-nesting-past-the-parser-uncaught",
        TEMPLATE,
        "    except RecursionError:  # brackets nested past what the parser descends",
        "    except ZeroDivisionError:  # brackets nested past what the parser descends",
        "a template nested past the YAML parser ends in a RecursionError traceback",
        (f"{_OUTSIDE_TEXT}::test_a_deeply_nested_template_is_refused_in_one_line",),
    ),
    Mutant(
        "marks-triples-taken-as-pairs",
        MARKS,
        "if isinstance(pair, list) and len(pair) == 2 and all(",
        "if isinstance(pair, list) and all(",
        "a hand-edited subscription of three names taken: teardown ends in a traceback",
        (f"{_OUTSIDE_TEXT}::test_a_setup_record_of_another_shape_is_one_line",),
    ),
    Mutant(
        "cli-unforeseen-error-keys-not-remembered",
        CLI,
        "        _remember_environment_keys()  # what is masked, though no client was made yet",
        "        pass",
        "an unforeseen error quoting the environment's token printed before any client"
        " remembered it",
        (
            "tests/test_cli_plain_errors.py::test_an_error_nobody_foresaw_is_one_line_and_debug_shows_where",
        ),
    ),
    Mutant(
        "sweep-ctrl-c-blames-the-timeout",
        LOCAL_SWEEP,
        ".removesuffix(TIMEOUT_ADVICE)",
        "",
        "a sweep stopped by Ctrl-C advises raising its timeout",
        (
            "tests/test_cli_interrupt.py::test_ctrl_c_during_a_sweep_apply_records_every_write"
            "_and_starts_no_further_bucket",
        ),
    ),
)
