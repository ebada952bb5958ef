"""Kept importable for the command line: the Config client now lives in the function's
package (:mod:`resource_repair.config_api`), where the sweep function uses it too."""

from resource_repair.config_api import (
    PAGE_SIZE,
    SITES,
    VERSION,
    ConfigApiError,
    ConfigClient,
    TransientConfigError,
)

__all__ = [
    "PAGE_SIZE",
    "SITES",
    "VERSION",
    "ConfigApiError",
    "ConfigClient",
    "TransientConfigError",
]
