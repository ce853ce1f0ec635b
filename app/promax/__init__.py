"""ProMax: an analytics dashboard over a company's Frappe/ERPNext ERP."""

from pyramid.config import Configurator

from promax.auth.policy import DEFAULT_PERMISSION
from promax.config import load_settings
from promax.logs import configure_logging


def make_config(ini_settings=None, environ=None):
    """Build the Pyramid configuration; raise ConfigurationError when settings are unfit."""
    settings = load_settings(ini_settings, environ)
    config = Configurator(settings=dict(ini_settings or {}))
    config.registry["promax.settings"] = settings

    config.include("pyramid_jinja2")
    config.add_jinja2_renderer(".jinja2")
    config.add_static_view("static", "promax:static", cache_max_age=3600)
    # Static files are public. Every other view must name its permission: the
    # default is one that no role has, so a view that names none is refused.
    config.set_default_permission(DEFAULT_PERMISSION)

    config.include("promax.validation.deriver")
    config.include("promax.db")
    config.include("promax.cache")
    config.include("promax.tenants")
    config.include("promax.auth")
    config.include("promax.web")
    config.include("promax.ratelimit")
    config.include("promax.health")
    config.include("promax.dashboard")
    config.include("promax.admin")
    config.include("promax.openapi")
    return config


def main(global_config=None, **ini_settings):
    """Paste entry point: return the WSGI application."""
    settings = load_settings(ini_settings)
    configure_logging(settings.log_level)
    return make_config(ini_settings).make_wsgi_app()
