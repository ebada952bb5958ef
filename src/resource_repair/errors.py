"""One exception tree for the whole package.

Input errors also inherit ``ValueError`` so that callers who only know the standard
library can still catch them.
"""


class ResourceRepairError(Exception):
    """Root of every error this package raises on purpose."""


class InvalidEventError(ResourceRepairError, ValueError):
    """A delivery or message that cannot be acted on; never retried."""


class ConfigurationError(ResourceRepairError, ValueError):
    """A function setting (environment variable) that has no valid meaning."""


class TransientError(ResourceRepairError):
    """Trouble that may pass: throttling, 5xx, timeouts. Worth another try."""

    throttled = False
    """The service said "slow down" (503 or 429, or a throttling code): the next try waits
    seconds, not milliseconds, since OSS counts its limits per second."""


# The codes with which OSS and Config ask a caller to slow down.
THROTTLING_CODES = frozenset(
    {
        "MetaOperationQpsLimitExceeded",
        "TotalQpsLimitExceeded",
        "ServiceUnavailable",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
    }
)


class OssCallError(ResourceRepairError):
    """An OSS request that failed; carries what OSS said about it."""

    def __init__(
        self, operation: str, status: int | None, code: str, message: str, request_id: str
    ) -> None:
        http = f"HTTP {status} " if status is not None else ""
        super().__init__(f"{operation} failed: {http}{code} {message}".strip())
        self.operation = operation
        self.status = status
        self.throttled = status in (429, 503) or code in THROTTLING_CODES
        self.code = code
        self.message = message
        self.request_id = request_id


class PermanentOssError(OssCallError):
    """OSS refused the request for a reason a retry will not change (4xx)."""


class BucketNotFoundError(PermanentOssError):
    """OSS answered NoSuchBucket."""


class TransientOssError(OssCallError, TransientError):
    """Throttling, a 5xx, a timeout or a broken connection: worth another try.

    Raised out of the handler once the bounded retries are spent, so that FC's
    asynchronous invocation delivers the message again later.
    """
