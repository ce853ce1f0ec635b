"""Fixtures for application tests: real MariaDB and Memcached, started here."""

import io
import json
import secrets
from contextlib import redirect_stdout

import pymysql
import pytest
from sqlalchemy import create_engine, text
from support.servers import MariaDBServer, MemcachedServer

# Simulator fixtures (simulator, lock_dir, acme) shared by several test modules.
pytest_plugins = ["support.erpsim"]


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(*ids): security-policy claims a test proves")


@pytest.fixture(scope="session")
def mariadb():
    server = MariaDBServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def memcached():
    server = MemcachedServer().start()
    yield server
    server.stop()


@pytest.fixture
def database_url(mariadb):
    """A fresh, empty control-plane database; its tenant schemas are dropped afterwards."""
    name = "promax_" + secrets.token_hex(6)
    with mariadb.root_connection() as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    yield mariadb.url(name)

    with mariadb.root_connection() as connection, connection.cursor() as cursor:
        try:
            cursor.execute(f"SELECT id FROM `{name}`.organisations")
            organisation_ids = [row[0] for row in cursor.fetchall()]
        except pymysql.err.ProgrammingError:
            organisation_ids = []
        for organisation_id in organisation_ids:
            cursor.execute(f"DROP DATABASE IF EXISTS `tenant_{organisation_id}`")
            cursor.execute(f"DROP USER IF EXISTS 'tenant_{organisation_id}'@'localhost'")
        cursor.execute(f"DROP DATABASE `{name}`")


@pytest.fixture(autouse=True)
def empty_memcached(request):
    """Flush Memcached before a test that uses it, so cached figures and
    failure counters never leak from one test into the next."""
    if "memcached" not in request.fixturenames:
        yield
        return
    from pymemcache.client.base import Client

    server = request.getfixturevalue("memcached")
    client = Client(server.address)
    client.flush_all()
    yield
    client.flush_all()
    client.close()


@pytest.fixture
def environ(database_url, memcached, mariadb):
    """The service environment a deployment would write into /etc/promax/promax.env."""
    return {
        "JWT_SECRET": secrets.token_hex(32),
        "PROMAX_DATABASE_URL": database_url,
        # Used by `promax tenant` commands only, to create schemas and accounts.
        "PROMAX_DATABASE_ADMIN_URL": mariadb.admin_url(),
        "PROMAX_MEMCACHED_SERVER": memcached.address,
        "PROMAX_ENVIRONMENT": "production",
        "PROMAX_ERP_ALLOW_PRIVATE_ADDRESSES": "true",
        "PROMAX_LOG_LEVEL": "INFO",
    }


class CommandRunner:
    """Run ``promax`` subcommands in-process against the test environment."""

    def __init__(self, environ, monkeypatch):
        self.environ = environ
        self.monkeypatch = monkeypatch

    def __call__(self, *argv, stdin=None, expect_status=0):
        from promax.cli import main

        if stdin is not None:
            self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        output = io.StringIO()
        with redirect_stdout(output):
            try:
                status = main(list(argv), environ=self.environ)
            except SystemExit as exit_:  # argparse exits 2 on invalid arguments
                status = exit_.code
        assert status == expect_status, f"promax {' '.join(argv)} exited {status}"
        text = output.getvalue().strip()
        return json.loads(text.splitlines()[-1]) if text else None


@pytest.fixture
def promax(environ, monkeypatch):
    return CommandRunner(environ, monkeypatch)


@pytest.fixture
def app(environ, promax):
    """The WSGI app as gunicorn loads it, with its control-plane database migrated."""
    from promax import make_config

    promax("db", "upgrade")
    return make_config(environ=environ).make_wsgi_app()


@pytest.fixture
def browser(app):
    """A WebTest client that speaks HTTPS, so Secure cookies travel as in production."""
    import webtest

    return webtest.TestApp(app, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "promax.test"})


@pytest.fixture
def organisation(promax):
    return promax("tenant", "create", "acme", "--name", "Acme Corp")


ADMIN_PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin(promax, organisation):
    result = promax("user", "create", "--org", "acme", "--email", "admin@acme.example",
                    "--role", "admin", "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    return {"email": "admin@acme.example", "password": ADMIN_PASSWORD, **result}


def sign_in(browser, email, password, status=303):
    """Sign in through the form, CSRF token included; return the response."""
    form = browser.get("/login").forms["login-form"]
    form["email"] = email
    form["password"] = password
    return form.submit(status=status)


def audit_count(environ, event_type):
    """Return how many audit events of one type the control plane holds."""
    engine = create_engine(environ["PROMAX_DATABASE_URL"])
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT COUNT(*) FROM audit_events WHERE event_type = :event_type"),
            {"event_type": event_type},
        ).scalar()
    engine.dispose()
    return count
