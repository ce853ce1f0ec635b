"""Settings: an INI file for tunables, the environment for secrets and addresses.

Every setting has one name, one type and one default here, so a typo in a
deployment fails at start-up with a message that names the setting, never on
the first request.
"""

import os
import re
from dataclasses import dataclass, field

MIN_JWT_SECRET_BYTES = 32


class ConfigurationError(Exception):
    """Raised at start-up when a setting is missing or invalid."""


def _coerce_bool(name, value):
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigurationError(f"{name}: expected true or false, got {value!r}")


def _coerce_int(name, value):
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigurationError(f"{name}: expected an integer, got {value!r}") from None


@dataclass(frozen=True)
class Setting:
    key: str  # the key in the INI file and in Pyramid's registry.settings
    env: str  # the environment variable that overrides the INI value
    kind: str = "str"  # str, bool or int
    default: object = None
    secret: bool = False


SETTINGS = (
    Setting("promax.jwt_secret", "JWT_SECRET", secret=True),
    # The secret JWT_SECRET replaced, kept during a key rotation: tokens it
    # signed stay valid until they expire, and ciphertexts under its keys
    # still decrypt until `promax keys rotate` re-encrypts them.
    Setting("promax.jwt_secret_previous", "JWT_SECRET_PREVIOUS", secret=True),
    Setting("promax.database_url", "PROMAX_DATABASE_URL", secret=True),
    Setting("promax.memcached_server", "PROMAX_MEMCACHED_SERVER", default="127.0.0.1:11211"),
    Setting("promax.environment", "PROMAX_ENVIRONMENT", default="production"),
    Setting("promax.session_hours", "PROMAX_SESSION_HOURS", "int", 8),
    Setting("promax.cache_ttl_seconds", "PROMAX_CACHE_TTL_SECONDS", "int", 300),
    Setting(
        "promax.erp_allow_private_addresses", "PROMAX_ERP_ALLOW_PRIVATE_ADDRESSES", "bool", False
    ),
    Setting("promax.erp_timeout_seconds", "PROMAX_ERP_TIMEOUT_SECONDS", "int", 30),
    Setting("promax.log_level", "PROMAX_LOG_LEVEL", default="INFO"),
    # Origins (scheme://host[:port], comma-separated) whose pages may call the
    # API with the user's cookies. Empty allows no other origin.
    Setting("promax.cors_origins", "PROMAX_CORS_ORIGINS", default=""),
    # Requests per minute before a 429, on every route.
    Setting("promax.rate_limit_per_ip", "PROMAX_RATE_LIMIT_PER_IP", "int", 600),
    Setting("promax.rate_limit_per_user", "PROMAX_RATE_LIMIT_PER_USER", "int", 300),
    # Creates and drops tenant schemas and accounts; read by the `promax tenant`
    # commands only, never by the web service.
    Setting("promax.database_admin_url", "PROMAX_DATABASE_ADMIN_URL", secret=True),
    # Secret the tenant accounts' MariaDB passwords are derived from; JWT_SECRET
    # (under a different HKDF label) when unset.
    Setting("promax.tenant_db_secret", "PROMAX_TENANT_DB_SECRET", secret=True),
    # Host part of the tenant accounts: localhost for a Unix-socket connection.
    Setting("promax.tenant_db_host", "PROMAX_TENANT_DB_HOST", default="localhost"),
    # Tenant engines one process keeps open (least recently used are closed first).
    Setting("promax.tenant_engine_cache_size", "PROMAX_TENANT_ENGINE_CACHE_SIZE", "int", 32),
    Setting("promax.tenant_pool_size", "PROMAX_TENANT_POOL_SIZE", "int", 2),
    # Tier-2 cache rows live this long unless a sync retires them first.
    Setting("promax.cache_retention_hours", "PROMAX_CACHE_RETENTION_HOURS", "int", 24),
)


@dataclass(frozen=True)
class Settings:
    jwt_secret: bytes
    database_url: str
    memcached_server: str
    environment: str
    session_hours: int
    cache_ttl_seconds: int
    erp_allow_private_addresses: bool
    erp_timeout_seconds: int
    log_level: str
    cors_origins: tuple = ()
    rate_limit_per_ip: int = 600
    rate_limit_per_user: int = 300
    database_admin_url: str | None = None
    tenant_db_secret: str | None = None
    tenant_db_host: str = "localhost"
    tenant_engine_cache_size: int = 32
    tenant_pool_size: int = 2
    cache_retention_hours: int = 24
    jwt_secret_previous: bytes | None = None
    extra: dict = field(default_factory=dict)

    @property
    def is_production(self):
        return self.environment == "production"

    @property
    def jwt_secrets(self):
        """Return the secrets that verify tokens and derive decryption keys, the current first."""
        if self.jwt_secret_previous is None:
            return (self.jwt_secret,)
        return (self.jwt_secret, self.jwt_secret_previous)


ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def parse_cors_origins(raw, environment):
    """Return the allowed CORS origins as a tuple; raise ConfigurationError on a bad entry.

    A wildcard would let any site read API responses, so it is rejected in
    production and allowed in development only.
    """
    origins = tuple(entry.strip().rstrip("/") for entry in (raw or "").split(",") if entry.strip())
    for origin in origins:
        if origin == "*":
            if environment == "production":
                raise ConfigurationError(
                    "PROMAX_CORS_ORIGINS: the wildcard * is not allowed in production; "
                    "list the origins, for example https://reports.example.com"
                )
            continue
        if not ORIGIN.fullmatch(origin):
            raise ConfigurationError(
                f"PROMAX_CORS_ORIGINS: invalid origin {origin!r}; expected scheme://host[:port]"
            )
    return origins


def load_settings(ini_settings=None, environ=None):
    """Build typed settings from INI values overridden by the environment.

    Raises ConfigurationError naming the first setting that is missing or
    invalid, so that the service refuses to start instead of running half set up.
    """
    ini_settings = dict(ini_settings or {})
    environ = os.environ if environ is None else environ
    values = {}

    for setting in SETTINGS:
        raw = environ.get(setting.env, ini_settings.get(setting.key, setting.default))
        short = setting.key.split(".", 1)[1]
        if raw is None:
            values[short] = None
        elif setting.kind == "bool":
            values[short] = _coerce_bool(setting.env, raw)
        elif setting.kind == "int":
            values[short] = _coerce_int(setting.env, raw)
        else:
            values[short] = str(raw)

    secret = values["jwt_secret"]
    if not secret:
        raise ConfigurationError(
            "JWT_SECRET is not set: put a random value of at least "
            f"{MIN_JWT_SECRET_BYTES} bytes in the service's environment file"
        )
    values["jwt_secret"] = secret.encode("utf-8")
    if len(values["jwt_secret"]) < MIN_JWT_SECRET_BYTES:
        raise ConfigurationError(
            f"JWT_SECRET is {len(values['jwt_secret'])} bytes long; "
            f"at least {MIN_JWT_SECRET_BYTES} are required"
        )

    previous = values["jwt_secret_previous"]
    if previous:
        values["jwt_secret_previous"] = previous.encode("utf-8")
        if len(values["jwt_secret_previous"]) < MIN_JWT_SECRET_BYTES:
            raise ConfigurationError(
                f"JWT_SECRET_PREVIOUS is {len(values['jwt_secret_previous'])} bytes long; "
                f"at least {MIN_JWT_SECRET_BYTES} are required, or leave it empty"
            )
        if values["jwt_secret_previous"] == values["jwt_secret"]:
            values["jwt_secret_previous"] = None
    else:
        values["jwt_secret_previous"] = None

    if not values["database_url"]:
        raise ConfigurationError(
            "PROMAX_DATABASE_URL is not set: expected for example "
            "mysql+pymysql://promax:PASSWORD@localhost/promax?unix_socket=/run/mysqld/mysqld.sock"
        )

    if values["environment"] not in ("production", "development"):
        raise ConfigurationError(
            f"PROMAX_ENVIRONMENT: expected production or development, got {values['environment']!r}"
        )

    values["cors_origins"] = parse_cors_origins(values["cors_origins"], values["environment"])

    for name in ("tenant_engine_cache_size", "tenant_pool_size", "cache_retention_hours",
                 "session_hours", "cache_ttl_seconds", "erp_timeout_seconds",
                 "rate_limit_per_ip", "rate_limit_per_user"):
        if values[name] <= 0:
            raise ConfigurationError(f"{name}: must be a positive integer, got {values[name]}")

    known = {s.key for s in SETTINGS}
    extra = {k: v for k, v in ini_settings.items() if k not in known}
    return Settings(extra=extra, **values)
