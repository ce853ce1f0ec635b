"""The WSGI application for gunicorn (``promax.wsgi:application``).

Settings come from the environment (the service's environment file) and,
when PROMAX_CONFIG names one, an INI file's ``[app:main]`` section. A
missing or short JWT_SECRET stops the worker at import with a clear message.
"""

import configparser
import os
import sys

from promax import main
from promax.config import ConfigurationError


def _ini_settings():
    path = os.environ.get("PROMAX_CONFIG")
    if not path:
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(path):
        raise ConfigurationError(f"PROMAX_CONFIG names {path}, which cannot be read")
    return dict(parser["app:main"]) if parser.has_section("app:main") else {}


try:
    application = main(**_ini_settings())
except ConfigurationError as error:
    print(f"promax: configuration error: {error}", file=sys.stderr)
    raise SystemExit(3) from None
