"""One remediation per Cloud Config managed rule: the registry, and the remediators that
the ACL fix (remediator.py) does not cover."""
