"""What a check reports: one line, ``ok``, ``FAIL`` or ``skip``, with what was found and,
on failure, what to do; and the failure of a request that such a line describes."""

from __future__ import annotations

import dataclasses

from resource_repair.errors import ResourceRepairError

OK, FAIL, SKIP = "ok", "FAIL", "skip"
_TEXT_CHARS = 240


class CheckError(ResourceRepairError):
    """A service refused a request or could not be reached: the check's one line says why."""

    def __init__(self, text: str, *, code: str = "", status: int = 0) -> None:
        super().__init__(text)
        self.code = code
        self.status = status


@dataclasses.dataclass(frozen=True)
class Finding:
    status: str
    check: str
    text: str
    fix: str = ""

    def line(self) -> str:
        tail = f" Fix: {self.fix}" if self.status == FAIL and self.fix else ""
        return f"{self.status:<4}  {self.check:<17} {self.text}{tail}"


def access_fix(exc: CheckError, action: str, site_option: str) -> str:
    """What to do about a refused or failed read, by what the failure says."""
    code = exc.code.lower()
    if exc.code == "network":
        return "check the network (or a proxy) and run again."
    if "accesskey" in code or "signature" in code or "token" in code:
        return "check the access key and secret (or --profile); they were refused."
    if exc.status == 403 or "forbidden" in code or "denied" in code or "nopermission" in code:
        return f"give the caller {action} (read-only), or run as an account administrator."
    if site_option:
        return f"run again later; if your account is on the other Config site, pass {site_option}."
    return "run again later."


def short_text(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= _TEXT_CHARS else line[: _TEXT_CHARS - 3] + "..."


def reference_label(reference: str) -> str:
    return reference if len(reference) <= 40 else reference[:37] + "..."
