"""Support for the Hypothesis fuzzing of every form and API endpoint (tests/test_fuzz.py)."""
