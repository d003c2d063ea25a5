"""Infusion clinic scheduling: the application factory."""

from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from config import DEV_SECRET_KEY, INSTANCE_DIR, MIN_SECRET_KEY_LENGTH, Config


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the app."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder="../templates",
        static_folder="static",
    )
    app.config.from_object(Config)
    if test_config is not None:
        app.config.update(test_config)
    check_production_config(app)
    INSTANCE_DIR.mkdir(exist_ok=True)
    register_converters(app)
    register_extensions(app)
    register_audit(app)
    register_security(app)
    register_blueprints(app)
    register_errors(app)
    register_templates(app)
    register_cli(app)
    return app


def register_converters(app: Flask) -> None:
    """Make ``<int:…>`` URL parts stop at the largest database id (bigger → 404)."""
    from werkzeug.routing import IntegerConverter

    class IdConverter(IntegerConverter):
        def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (werkzeug's name)
            kwargs.setdefault("max", 2**31 - 1)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = IdConverter


def check_production_config(app: Flask) -> None:
    """Refuse to run in production with the default, an empty or a short secret, or debug on."""
    environment = app.config.get("CLINIC_ENV")
    if environment not in ("development", "production"):  # a typo must not mean "development"
        raise RuntimeError(f"CLINIC_ENV must be 'development' or 'production', not {environment!r}")
    if environment != "production":
        return
    secret = app.config.get("SECRET_KEY") or ""
    if not isinstance(secret, (str, bytes)) or secret in ("", DEV_SECRET_KEY) or len(secret) < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} characters in production"
        )
    if app.debug:
        raise RuntimeError("debug mode must be off in production")


def register_extensions(app: Flask) -> None:
    from clinic import database  # noqa: F401  (installs the engine events)
    from clinic import models  # noqa: F401  (complete metadata)
    from clinic.auth.access import register_access
    from clinic.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    # Before the sign-in gate, whose user lookup opens the transaction.
    app.before_request(database.choose_sqlite_transaction_mode)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    register_access(app)


def register_security(app: Flask) -> None:
    from clinic.security import register_security as install

    install(app)


def register_audit(app: Flask) -> None:
    from clinic.audit.hooks import register_audit as install

    install(app)  # after the sign-in gate: the acting user is known by then


def register_blueprints(app: Flask) -> None:
    from clinic.admin.views import bp as admin_bp
    from clinic.api import bp as api_bp
    from clinic.audit.views import bp as audit_bp
    from clinic.auth.views import bp as auth_bp
    from clinic.extensions import csrf
    from clinic.main.views import bp as main_bp
    from clinic.monitoring.record_views import bp as record_bp
    from clinic.monitoring.views import bp as monitoring_bp
    from clinic.patients.views import bp as patients_bp
    from clinic.protocols.views import bp as protocols_bp
    from clinic.scheduling.appointment_views import bp as appointments_bp
    from clinic.scheduling.booking_views import bp as booking_bp
    from clinic.scheduling.views import bp as scheduling_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(patients_bp)
    app.register_blueprint(protocols_bp)
    app.register_blueprint(scheduling_bp)
    app.register_blueprint(appointments_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(monitoring_bp)
    app.register_blueprint(record_bp)
    csrf.exempt(api_bp)  # token auth, never cookies
    app.register_blueprint(api_bp)


def register_errors(app: Flask) -> None:
    from clinic.errors import register_error_handlers

    register_error_handlers(app)


def register_templates(app: Flask) -> None:
    from clinic.templating import register_filters

    register_filters(app)


def register_cli(app: Flask) -> None:
    from clinic.audit.cli import audit_cli
    from clinic.auth.cli import users_cli
    from clinic.demo import seed_demo_command
    from clinic.protocols.cli import protocols_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(protocols_cli)
    app.cli.add_command(seed_demo_command)
