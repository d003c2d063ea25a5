"""Sign-in events other areas (the audit trail) may subscribe to.

Receivers run inside the request's transaction, before it commits, so rows
they add are saved with the attempt. Successful sign-ins and sign-outs are
Flask-Login's own ``user_logged_in`` and ``user_logged_out``.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: a wrong password or unknown username: kwargs username, address
sign_in_failed = _signals.signal("sign-in-failed")
#: an attempt refused unchecked by throttling: kwargs username, address, retry_after
sign_in_throttled = _signals.signal("sign-in-throttled")
