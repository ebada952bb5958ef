"""How long the function waits before trying again, by what the service said."""

from __future__ import annotations

import pytest

from resource_repair.errors import TransientOssError
from resource_repair.retry import Deadline, RetryPolicy
from resource_repair.testing.oss.models import OssBackend
from tests.conftest import BUCKET, REGION, Invoke, load_event


def _throttled() -> TransientOssError:
    return TransientOssError(
        "GetBucketInfo", 503, "MetaOperationQpsLimitExceeded", "Qps limit exceeded", "id"
    )


def test_a_throttled_call_waits_a_second_or_more_before_the_next_try(waits: list[float]) -> None:
    # OSS counts its limits per second: a retry within the same second is refused again,
    # which is how a flood used to spend all three attempts in 0.6 s (benchmarks/flood.py).
    answers = [_throttled(), _throttled(), "ok"]

    def operation() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert RetryPolicy(max_attempts=3).call(operation, Deadline(60)) == "ok"
    assert len(waits) == 2
    assert 1.0 <= waits[0] <= 2.0
    assert 2.0 <= waits[1] <= 4.0


def test_a_broken_connection_is_retried_at_once(waits: list[float]) -> None:
    broken = TransientOssError("GetBucketInfo", None, "RequestError", "reset", "")
    assert not broken.throttled
    answers: list[object] = [broken, "ok"]

    def operation() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    RetryPolicy(max_attempts=3).call(operation, Deadline(60))
    assert waits
    assert waits[0] <= 0.2


def test_no_throttled_retry_starts_that_the_deadline_cannot_hold(waits: list[float]) -> None:
    def operation() -> None:
        raise _throttled()

    with pytest.raises(TransientOssError):
        RetryPolicy(max_attempts=3, request_timeout=5).call(operation, Deadline(5.5))
    assert waits == []


def test_the_handler_backs_off_from_osss_throttling(
    fake_oss: OssBackend, invoke: Invoke, waits: list[float]
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.fail_next(1, status=503, code="MetaOperationQpsLimitExceeded")
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert result["outcome"] == "remediated"
    assert len(waits) == 1
    assert waits[0] >= 1.0


def test_the_worst_case_holds_every_wait_a_throttled_call_can_make(waits: list[float]) -> None:
    # The sweep starts a bucket only when its worst case fits: it must cover the longest waits.
    policy = RetryPolicy(max_attempts=4, request_timeout=1)
    for _ in range(50):
        waits.clear()

        def operation() -> None:
            raise _throttled()

        with pytest.raises(TransientOssError):
            policy.call(operation, Deadline(600))
        assert sum(waits) + 4 * 1 <= policy.worst_case()
