"""``python -m resource_repair``: the same as the ``resource-repair`` command."""

import sys

from resource_repair.cli import main

sys.exit(main())
