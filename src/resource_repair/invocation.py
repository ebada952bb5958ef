"""What FC's context says about the current invocation, read the same way by every handler.

The context's shape differs by runtime (python3.12's has no ``credentials`` and no
``service``) and by how the function is run locally, so every attribute is optional here.
"""

from __future__ import annotations

from collections.abc import Mapping


def context_text(context: object, name: str) -> str | None:
    """A non-empty text attribute of the context (ids may arrive as numbers), else None."""
    value = getattr(context, name, None)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and value else None


def function_region(context: object, environ: Mapping[str, str]) -> str | None:
    return context_text(context, "region") or environ.get("FC_REGION") or None


def function_timeout(context: object, default: float) -> float:
    """The function's timeout in seconds, from ``context.function.timeout``."""
    timeout = getattr(getattr(context, "function", None), "timeout", None)
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return float(timeout)
    return default
