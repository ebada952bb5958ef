"""Whether one bucket fits the sweep's time: the check the sweep itself makes when it
starts (resource_repair.sweep.time_problem), against the template's ``timeout`` for the
sweep function, so that a setting that would stop every sweep is seen before deploying."""

from __future__ import annotations

from collections.abc import Iterator

from resource_repair.errors import ConfigurationError
from resource_repair.settings import Settings
from resource_repair.tools.doctor.findings import FAIL, OK, SKIP, Finding
from resource_repair.tools.doctor.plan import Plan

CHECK = "sweep-time"
SWEEP_HANDLER = "index.sweep"


def sweep_time_findings(plan: Plan) -> Iterator[Finding]:
    from resource_repair.listed_buckets import bucket_budget
    from resource_repair.sweep import sweep_seconds, time_problem

    sweeps = [c for c in plan.companions if c.handler == SWEEP_HANDLER]
    if not sweeps:
        yield Finding(SKIP, CHECK, f"no function with handler {SWEEP_HANDLER} in the template")
        return
    for sweep in sweeps:
        try:
            settings = Settings.from_env(dict(sweep.environment))
        except ConfigurationError:
            yield Finding(SKIP, CHECK, f"{sweep.name}: its settings do not parse (see `settings`)")
            continue
        problem = time_problem(settings, sweep.timeout)
        if problem is not None:
            yield Finding(
                FAIL,
                CHECK,
                f"{sweep.name}: {problem}.",
                f"change vars (ossRequestTimeout, ossMaxAttempts) or the timeout of"
                f" {sweep.name} in {plan.template_path}.",
            )
            continue
        yield Finding(
            OK,
            CHECK,
            f"{sweep.name}: one bucket's worst case {bucket_budget(settings):.0f} s fits the"
            f" {sweep_seconds(sweep.timeout):.0f} s its {sweep.timeout} s timeout leaves",
        )
