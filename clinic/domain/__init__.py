"""Pure domain rules: plain dataclasses in, plain dataclasses out.

Nothing in this package imports Flask or SQLAlchemy or reads the clock;
callers pass ``today``/``now`` in.
"""
