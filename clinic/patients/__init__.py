"""Patients, diagnoses (ICD-10), measures and screenings."""
