"""resource_repair: make OSS buckets that Cloud Config reports as publicly readable private.

The public surface is small on purpose:

- :func:`resource_repair.handler.handle` is what FC's ``index.handler`` calls;
- :class:`Outcome` and :class:`Report` describe what one delivery led to;
- :mod:`resource_repair.testing` holds the fake OSS and fake FC contexts for tests.
"""

import logging

from resource_repair.report import Outcome, Report

# A library never configures logging for its host; FC's runtime (or our CLI) does that.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Outcome", "Report"]
