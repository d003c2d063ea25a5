"""Clinic setup for admins: site, opening hours, chairs, closures."""
