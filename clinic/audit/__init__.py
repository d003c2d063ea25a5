"""The append-only audit trail.

``capture`` turns every flush of an audited model into events, ``services``
chains and writes them at commit, ``views``/``api.audit`` browse them and
``cli`` verifies the hash chain.
"""
