"""Response headers, proxy trust and production-only settings.

Every response gets a strict Content-Security-Policy (no inline scripts or
styles: the templates have none, and tests keep it so), ``nosniff``,
``Referrer-Policy: same-origin`` and ``X-Frame-Options: DENY``. Everything
but static files is ``Cache-Control: no-store``: pages and API answers carry
patient data and must not stay in browser or proxy caches. Production adds
HSTS and ``Secure`` cookies.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
#: one year, subdomains too (send only over HTTPS: production is behind TLS)
HSTS = "max-age=31536000; includeSubDomains"


def is_production(app: Flask) -> bool:
    """Return True when the app runs with CLINIC_ENV=production."""
    return app.config.get("CLINIC_ENV") == "production"


def register_security(app: Flask) -> None:
    """Apply production settings, trust configured proxies and add the headers."""
    apply_session_settings(app)
    proxies = int(app.config.get("TRUSTED_PROXIES", 0))
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    production = is_production(app)
    # First of all hooks: no database work may see a NUL byte (PostgreSQL refuses them).
    app.before_request_funcs.setdefault(None, []).insert(0, reject_nul_bytes)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        if production:
            response.headers["Strict-Transport-Security"] = HSTS
        return response


def apply_session_settings(app: Flask) -> None:
    """Keep the cookie's lifetime at the absolute limit; Secure cookies in production."""
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    if is_production(app):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        # The __Host- prefix: browsers keep it only if Secure, Path=/ and no Domain.
        path = app.config.get("SESSION_COOKIE_PATH") or app.config.get("APPLICATION_ROOT") or "/"
        plain = app.config.get("SESSION_COOKIE_NAME", "session") == "session"
        if plain and path == "/" and not app.config.get("SESSION_COOKIE_DOMAIN"):
            app.config["SESSION_COOKIE_NAME"] = "__Host-session"


def contains_nul(value: object) -> bool:
    """Return True if a string anywhere inside ``value`` holds a NUL byte."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def reject_nul_bytes() -> None:
    """Answer 400 to a path, query or form value holding a NUL byte."""
    from flask import abort

    values = [request.path, *request.args.values(), *request.form.values()]
    if any("\x00" in value for value in values):
        abort(400, "A value holds a NUL character; remove it and try again.")
