"""/api/v1/schedule."""
