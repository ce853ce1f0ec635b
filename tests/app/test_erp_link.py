"""ERP link URL checks, encrypted storage and the ``promax erp`` commands."""

import json
import socket

import pytest
from sqlalchemy import create_engine, text
from support.erpsim import API_KEY, API_SECRET

from promax.config import load_settings
from promax.erp.link import InvalidErpUrl, validate_site_url


def settings_for(environment, allow_private):
    return load_settings(
        environ={
            "JWT_SECRET": "j" * 40,
            "PROMAX_DATABASE_URL": "mysql+pymysql://unused@localhost/unused",
            "PROMAX_ENVIRONMENT": environment,
            "PROMAX_ERP_ALLOW_PRIVATE_ADDRESSES": "true" if allow_private else "false",
        }
    )


def resolver_for(address):
    """Return a getaddrinfo stand-in that resolves every host to one address."""

    def resolve(host, port, type=0):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    return resolve


PUBLIC = resolver_for("93.184.215.14")


@pytest.mark.claim("C-3.1a")
def test_http_rejected_in_production():
    settings = settings_for("production", allow_private=False)

    with pytest.raises(InvalidErpUrl, match="plain http"):
        validate_site_url("http://erp.example.com", settings, PUBLIC)


@pytest.mark.claim("C-3.1a")
def test_http_to_public_host_rejected_even_when_private_allowed():
    settings = settings_for("production", allow_private=True)

    with pytest.raises(InvalidErpUrl, match="public address"):
        validate_site_url("http://erp.example.com", settings, PUBLIC)


@pytest.mark.claim("C-3.1a")
def test_https_public_host_accepted():
    settings = settings_for("production", allow_private=False)

    assert validate_site_url("https://erp.example.com/", settings, PUBLIC) == "https://erp.example.com"


@pytest.mark.claim("C-3.1a")
@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "::1", "fe80::1", "0.0.0.0", "::ffff:127.0.0.1"]
)
def test_non_public_address_rejected(address):
    settings = settings_for("production", allow_private=False)

    with pytest.raises(InvalidErpUrl, match="non-public address"):
        validate_site_url("https://erp.example.com", settings, resolver_for(address))


@pytest.mark.claim("C-3.1a")
def test_loopback_literal_rejected():
    settings = settings_for("production", allow_private=False)

    with pytest.raises(InvalidErpUrl, match="non-public"):
        validate_site_url("https://127.0.0.1:8800", settings)


@pytest.mark.parametrize(
    "url",
    ["ftp://erp.example.com", "https://", "https://user:pw@erp.example.com", "https://erp.example.com/?a=1", ""],
)
def test_malformed_url_rejected(url):
    with pytest.raises(InvalidErpUrl):
        validate_site_url(url, settings_for("production", allow_private=False), PUBLIC)


@pytest.mark.claim("C-3.2a", "C-3.2c")
def test_erp_set_stores_ciphertexts(promax, acme, simulator, database_url):
    result = promax(
        "erp", "set", "acme", "--url", simulator.url, "--api-key", API_KEY, "--api-secret-stdin",
        stdin=API_SECRET + "\n",
    )

    assert result["changed"] is True
    assert result["fields_changed"] == ["site_url", "api_key", "api_secret"]
    assert API_SECRET not in json.dumps(result)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT site_url, api_key, api_secret FROM erp_links")).one()
        events = connection.execute(
            text("SELECT event_type, organisation_id, detail FROM audit_events")
        ).all()
    engine.dispose()
    for value in row:
        assert API_SECRET.encode() not in value
        assert API_KEY.encode() not in value
        assert simulator.url.encode() not in value
    assert [(e.event_type, e.organisation_id) for e in events] == [("erp.link_updated", acme["id"])]
    assert API_SECRET not in events[0].detail


def test_erp_set_is_idempotent(promax, acme, simulator):
    arguments = ("erp", "set", "acme", "--url", simulator.url, "--api-key", API_KEY, "--api-secret-stdin")
    promax(*arguments, stdin=API_SECRET + "\n")

    again = promax(*arguments, stdin=API_SECRET + "\n")
    rotated = promax(*arguments, stdin="new-secret\n")

    assert again == {"changed": False, "org": "acme", "fields_changed": []}
    assert rotated["fields_changed"] == ["api_secret"]


def test_erp_set_requires_secret_on_stdin(promax, acme, simulator):

    promax("erp", "set", "acme", "--url", simulator.url, "--api-key", API_KEY, expect_status=2)


@pytest.mark.claim("C-3.1a")
def test_erp_set_rejects_loopback_without_private_allowed(promax, acme, environ):
    environ["PROMAX_ERP_ALLOW_PRIVATE_ADDRESSES"] = "false"

    promax(
        "erp", "set", "acme", "--url", "http://127.0.0.1:8800", "--api-key", "k", "--api-secret-stdin",
        stdin="s\n", expect_status=2,
    )
    promax(
        "erp", "set", "acme", "--url", "https://127.0.0.1:8800", "--api-key", "k", "--api-secret-stdin",
        stdin="s\n", expect_status=2,
    )


@pytest.mark.claim("C-5.4a")
def test_erp_test_reports_logged_user(promax, acme, simulator, environ):
    promax(
        "erp", "set", "acme", "--url", simulator.url, "--api-key", API_KEY, "--api-secret-stdin",
        stdin=API_SECRET + "\n",
    )

    result = promax("erp", "test", "acme")

    assert result == {"changed": False, "org": "acme", "ok": True, "user": "promax-reader@example.com"}


def test_erp_test_reports_bad_secret(promax, acme, simulator, environ):
    promax(
        "erp", "set", "acme", "--url", simulator.url, "--api-key", API_KEY, "--api-secret-stdin",
        stdin="wrong-secret\n",
    )

    result = promax("erp", "test", "acme", expect_status=1)

    assert result["ok"] is False
    assert "401" in result["error"]
    assert "wrong-secret" not in result["error"]
