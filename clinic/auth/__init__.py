"""Staff sign-in, roles and API tokens."""
