"""Function Compute entry points; the work is in resource_repair.

- ``index.handler``: one Cloud Config message from the SMQ (MNS) topic trigger.
- ``index.sweep``: the timer-triggered sweep over Config's non-compliant buckets.
"""

from resource_repair.handler import handle


def handler(event, context):  # type: ignore[no-untyped-def]  # FC's fixed signature
    return handle(event, context)


def sweep(event, context):  # type: ignore[no-untyped-def]  # FC's fixed signature
    """List the NON_COMPLIANT buckets of every rule ``prepareRuleName`` selects and make
    them private; return JSON ``{"status", "outcomes", "complete", "rules"}``.

    ``event`` is the timer trigger's (``{"triggerTime": ..., "triggerName": ...}``) or
    ``{"sweep": "run"}``; anything else is refused (a ``fail``) before any request.

    Settings and credentials come from the environment and ``context`` exactly as for
    ``handler``. To run it outside FC (benchmarks, tests) against the fakes::

        from resource_repair.testing import fc_context, mock_oss
        from resource_repair.testing.config import mock_config_api

        with mock_config_api() as config, mock_oss() as oss:
            ...  # config.add_rule(...), config.add_results(...), oss.create_bucket(...)
            result = json.loads(index.sweep(b'{"sweep": "run"}', fc_context(timeout=600)))

    with ``prepareRuleName`` set in ``os.environ``. ``mock_config_api`` answers the Config
    site the function's region maps to (``config.ap-southeast-1.aliyuncs.com`` for the fake
    context's region). Resolved rule names are cached per process: call
    ``resource_repair.sweep.clear_rule_cache()`` between fakes that reuse a name.
    """
    # Imported here: the Config SDK costs the event function's cold start nothing.
    from resource_repair.sweep import handle_sweep

    return handle_sweep(event, context)
