"""Start-up settings: secrets and addresses from the environment."""

import pytest

from promax.config import ConfigurationError, load_settings

VALID = {
    "JWT_SECRET": "x" * 32,
    "PROMAX_DATABASE_URL": "mysql+pymysql://promax:pw@localhost/promax",
}


def test_settings_from_environment():
    settings = load_settings(environ={**VALID, "PROMAX_SESSION_HOURS": "4"})

    assert settings.jwt_secret == b"x" * 32
    assert settings.session_hours == 4
    assert settings.is_production


def test_missing_jwt_secret_fails():
    environ = {"PROMAX_DATABASE_URL": VALID["PROMAX_DATABASE_URL"]}

    with pytest.raises(ConfigurationError, match="JWT_SECRET is not set"):
        load_settings(environ=environ)


def test_short_jwt_secret_fails():
    environ = {**VALID, "JWT_SECRET": "x" * 31}

    with pytest.raises(ConfigurationError, match="31 bytes long; at least 32"):
        load_settings(environ=environ)


def test_jwt_secret_counted_in_bytes():
    # 11 three-byte characters are 33 bytes although only 11 characters.
    settings = load_settings(environ={**VALID, "JWT_SECRET": "€" * 11})

    assert len(settings.jwt_secret) == 33


def test_invalid_typed_value_named():
    with pytest.raises(ConfigurationError, match="PROMAX_SESSION_HOURS: expected an integer"):
        load_settings(environ={**VALID, "PROMAX_SESSION_HOURS": "eight"})


def test_environment_overrides_ini():
    settings = load_settings(
        {"promax.cache_ttl_seconds": "60"}, environ={**VALID, "PROMAX_CACHE_TTL_SECONDS": "90"}
    )

    assert settings.cache_ttl_seconds == 90


def test_wsgi_refuses_to_start_without_secret(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import promax.wsgi"],
        env={"PATH": "/usr/bin:/bin", "PROMAX_DATABASE_URL": VALID["PROMAX_DATABASE_URL"]},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )

    assert result.returncode == 3
    assert "JWT_SECRET is not set" in result.stderr
    assert "Traceback" not in result.stderr
