"""Screenings, flags and the nurse's infusion record."""
