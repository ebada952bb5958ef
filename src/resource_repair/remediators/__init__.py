"""One remediation per Cloud Config managed rule, one module each (``acl.py``, ``policy.py``),
what they share (``contract.py``, ``exemption.py``, ``public_access_block.py``), and the
registry that maps each managed rule to its remediation (``registry.py``)."""
