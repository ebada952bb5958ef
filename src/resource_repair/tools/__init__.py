"""The ``resource-repair`` command's work: local runs, events, remote invocation.

Never imported by the deployed function (src/.fcignore leaves this package out).
"""
