"""The ``promax`` command: operations on the control plane, tenants, users and the ERP.

Each subcommand module registers its parsers. Commands print one JSON object
on stdout with a ``changed`` key, so Ansible can report changes and stay
idempotent. Errors go to stderr as one line; the exit status is 1 for a
failed operation and 2 for invalid input.
"""

import argparse
import importlib
import json
import os
import sys
from functools import cached_property

from promax.config import ConfigurationError, load_settings
from promax.logs import configure_logging

COMMAND_MODULES = (
    "promax.cli.db",
    "promax.cli.tenant",
    "promax.cli.user",
    "promax.cli.erp",
    "promax.cli.sync",
    "promax.cli.erpsim",
    "promax.cli.health",
    "promax.cli.cache",
    "promax.cli.keys",
)


class CommandError(Exception):
    """A failure to report to the operator; exit_status 2 means invalid input."""

    def __init__(self, message, exit_status=1):
        super().__init__(message)
        self.exit_status = exit_status


class CommandContext:
    """Lazily built settings and database handles shared by the subcommands."""

    def __init__(self, environ=None):
        self.environ = os.environ if environ is None else environ

    @cached_property
    def settings(self):
        return load_settings(environ=self.environ)

    @cached_property
    def engine(self):
        from promax.db import make_engine

        return make_engine(self.settings.database_url, pool_size=2, max_overflow=2)

    def session(self):
        from promax.db import make_session_factory

        return make_session_factory(self.engine)()


def emit(result):
    """Print a command's result as one JSON line."""
    print(json.dumps(result, default=str, sort_keys=True))


def build_parser():
    parser = argparse.ArgumentParser(prog="promax", description="Operate a ProMax appliance.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv=None, environ=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    context = CommandContext(environ)

    try:
        configure_logging(os.environ.get("PROMAX_LOG_LEVEL", "INFO"))
        result = args.func(args, context)
    except ConfigurationError as error:
        print(f"promax: configuration error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"promax: {error}", file=sys.stderr)
        return error.exit_status
    except KeyboardInterrupt:
        print("promax: interrupted", file=sys.stderr)
        return 130

    if result is not None:
        emit(result)
    return 0
