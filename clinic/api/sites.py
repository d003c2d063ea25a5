"""/api/v1/sites."""
