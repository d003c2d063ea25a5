"""/api/v1/appointments."""
