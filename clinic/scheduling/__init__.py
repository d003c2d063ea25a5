"""Sites, chairs, series and appointments: booking and the day schedule."""
