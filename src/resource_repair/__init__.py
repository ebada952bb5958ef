"""resource_repair: make OSS buckets that Cloud Config reports as publicly readable private.

The public surface is small on purpose:

- :func:`resource_repair.handler.handle` is what FC's ``index.handler`` calls;
- :class:`Outcome` and :class:`Report` describe what one delivery led to;
- :mod:`resource_repair.testing` holds the fake OSS and fake FC contexts for tests.

Where things live: the layers, lowest first. A module imports only from its own layer or the
ones listed before it, never in a circle, and the code that runs in FC never imports the
fakes (tests/test_layers.py reads this list and checks every import, function-level ones
included). A new module goes on the lowest layer whose modules it needs.

1. foundations: resource_repair, errors, logtext, redaction, credentials, invocation, report,
   sweep_trigger, cutoff, retry, rpc, endpoints.
2. fakes: testing, testing.*.
3. what is read and said: message, delivery, validation, audit, notification.
4. remediations: remediators, remediators.*.
5. settings: notify_settings, settings.
6. cloud clients: oss_client, config_api, member_access, smq.
7. one bucket and who is told: selection, remediation, notify, rule_lookup, listed_buckets.
8. runs: sweep, config_remediation, handler.
9. entry points and workstation: index, __main__, cli, tools, tools.*.

Layer 4 is where a fix goes: one module per remediation in ``remediators/``, declaring the
managed rules it fixes and the OSS actions it calls, and one entry in
``remediators/registry.py``. Settings (5) are plain values read from the environment: they
never import what interprets them (``selection``, ``notify``: 7). A notification is said in
``notification`` (3), carried to SMQ by ``smq`` (6), and sent when due by ``notify`` (7).
The ``resource-repair`` command (9) is one module per command in ``tools/commands/``, each
declaring its name, help, options and run; ``cli`` assembles its parser from them.
"""

import logging

from resource_repair.report import Outcome, Report

# A library never configures logging for its host; FC's runtime (or our CLI) does that.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Outcome", "Report"]
