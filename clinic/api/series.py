"""/api/v1/series."""
