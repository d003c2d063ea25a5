"""Therapy protocols: the versioned catalog and its pages."""
