"""Function Compute entry point (handler ``index.handler``); the work is in resource_repair."""

from resource_repair.handler import handle


def handler(event, context):  # type: ignore[no-untyped-def]  # FC's fixed signature
    return handle(event, context)
