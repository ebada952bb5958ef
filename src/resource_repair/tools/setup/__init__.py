"""``resource-repair setup``: create, with the caller's own credentials, what the function
needs before it is deployed: the SMQ topics (and subscriptions to the failure topic), the
Config rules of ``prepareRuleName``, and Config's delivery of non-compliance results to the
topic. Without ``--apply`` it only reads and prints its plan; ``--teardown`` removes what
it created, and only that (marks.py says how it knows).

The package's parts: request.py (what was asked), plan.py (the lines and the clients),
preconditions.py, topics.py, rules.py, delivery.py, remediation.py (Config's remediation,
--config-remediation), teardown.py, marks.py, command.py (the run and its exit code); SMQ
is reached through tools/smq.py, as doctor reaches it.
"""

from resource_repair.tools.setup.command import run
from resource_repair.tools.setup.request import add_arguments

__all__ = ["add_arguments", "run"]
