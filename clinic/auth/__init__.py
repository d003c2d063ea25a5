"""Staff sign-in, server-side sessions, throttling, roles and API tokens."""
