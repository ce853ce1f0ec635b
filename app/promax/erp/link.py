"""An organisation's ERP link: URL checks, encrypted storage and client construction.

The three fields are stored as AES-GCM ciphertexts (see promax.erp.credentials)
and decrypted only in ``build_client``, right before the client needs them.
"""

import ipaddress
import json
import logging
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from promax.erp.client import ErpClient
from promax.erp.credentials import CredentialCipher
from promax.erp.limiter import resolve_lock_dir
from promax.models.control import AuditEvent, ErpLink

log = logging.getLogger(__name__)

FIELDS = ("site_url", "api_key", "api_secret")


class InvalidErpUrl(ValueError):
    """Raised when an ERP URL is malformed or points where ProMax may not connect."""


class ErpLinkMissing(LookupError):
    """Raised when an organisation has no ERP link yet."""


@dataclass(frozen=True)
class ErpCredentials:
    site_url: str
    api_key: str
    api_secret: str = field(repr=False)


def _is_internal(address):
    """Return True for loopback, private, link-local, reserved and other non-public addresses."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


def resolve_addresses(host, port, resolver=socket.getaddrinfo):
    """Return every IP address the host resolves to, without connecting to it."""
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise InvalidErpUrl(f"ERP host {host!r} cannot be resolved: {error.strerror}") from None
    # Drop any IPv6 zone id ("fe80::1%eth0") before parsing.
    return sorted({ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos}, key=str)


def validate_site_url(url, settings, resolver=socket.getaddrinfo):
    """Check an ERP URL against the deployment's rules; return it without a trailing slash.

    https is required unless ``erp_allow_private_addresses`` is true. When it
    is false, a host that resolves to any loopback, private, link-local or
    reserved address is rejected, before any connection is made. In
    production, http is further limited to hosts with non-public addresses.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidErpUrl("ERP URL is missing: expected for example https://erp.example.com")
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidErpUrl(f"ERP URL {url!r} is invalid: {error}") from None

    if parts.scheme not in ("https", "http"):
        raise InvalidErpUrl(f"ERP URL {url!r} is invalid: the scheme must be https")
    if parts.scheme == "http" and not settings.erp_allow_private_addresses:
        where = "in production" if settings.is_production else "unless private addresses are allowed"
        raise InvalidErpUrl(
            f"ERP URL {url!r} is rejected: plain http is not allowed {where}; use https"
        )
    if not parts.hostname:
        raise InvalidErpUrl(f"ERP URL {url!r} is invalid: it has no host name")
    if parts.username is not None or parts.password is not None:
        raise InvalidErpUrl(
            "ERP URL is invalid: it must not contain a user name or password; "
            "give the API key and secret separately"
        )
    if parts.query or parts.fragment:
        raise InvalidErpUrl(f"ERP URL {url!r} is invalid: it must not have a query or fragment")

    port = port or (443 if parts.scheme == "https" else 80)
    if parts.scheme == "http" and settings.is_production:
        # Plain http is tolerated in production only towards hosts on private
        # networks (a simulator or an ERP beside the appliance), never across
        # the internet.
        for address in resolve_addresses(parts.hostname, port, resolver):
            if not _is_internal(address):
                raise InvalidErpUrl(
                    f"ERP URL {url!r} is rejected: plain http to the public address {address} "
                    "is not allowed in production; use https"
                )
    if not settings.erp_allow_private_addresses:
        for address in resolve_addresses(parts.hostname, port, resolver):
            if _is_internal(address):
                raise InvalidErpUrl(
                    f"ERP URL {url!r} is rejected: {parts.hostname} resolves to the non-public "
                    f"address {address}; set PROMAX_ERP_ALLOW_PRIVATE_ADDRESSES=true only if "
                    "the ERP runs on this private network"
                )
    return url.rstrip("/")


def _load_row(session, organisation_id):
    return session.get(ErpLink, organisation_id)


def load_credentials(session, settings, organisation_id):
    """Decrypt and return an organisation's ERP credentials, or None when it has no link."""
    row = _load_row(session, organisation_id)
    if row is None:
        return None
    cipher = CredentialCipher.from_settings(settings)
    values = {name: cipher.decrypt(organisation_id, name, getattr(row, name)) for name in FIELDS}
    return ErpCredentials(**values)


def store_link(session, settings, organisation_id, credentials, resolver=socket.getaddrinfo,
               user_id=None, ip_address=""):
    """Validate and store an ERP link; return the names of the fields that changed.

    An unchanged link is not rewritten, so the command stays idempotent. A
    change adds an ``erp.link_updated`` audit event naming the changed fields
    (never their values) and, when given, the user and client address that
    made it. The caller commits the session.
    """
    site_url = validate_site_url(credentials.site_url, settings, resolver)
    if not credentials.api_key or not credentials.api_secret:
        raise ValueError("the ERP API key and API secret must both be non-empty")
    credentials = ErpCredentials(site_url, credentials.api_key, credentials.api_secret)

    current = load_credentials(session, settings, organisation_id)
    if current == credentials:
        return []
    changed = [
        name
        for name in FIELDS
        if current is None or getattr(current, name) != getattr(credentials, name)
    ]

    cipher = CredentialCipher.from_settings(settings)
    sealed = {
        name: cipher.encrypt(organisation_id, name, getattr(credentials, name)) for name in FIELDS
    }
    row = _load_row(session, organisation_id)
    if row is None:
        session.add(ErpLink(organisation_id=organisation_id, **sealed))
    else:
        for name, value in sealed.items():
            setattr(row, name, value)
    session.add(
        AuditEvent(
            event_type="erp.link_updated",
            organisation_id=organisation_id,
            user_id=user_id,
            ip_address=ip_address or "",
            detail=json.dumps({"fields_changed": changed, "created": current is None}),
        )
    )
    log.info(
        "ERP link updated",
        extra={"organisation_id": organisation_id, "fields_changed": changed},
    )
    return changed


def build_client(session, settings, organisation_id, environ=None, **client_options):
    """Decrypt the organisation's link and return an ErpClient for it.

    The URL is checked again here because DNS answers can change after the
    link was stored. ``environ`` is where PROMAX_ERP_LOCK_DIR is looked up
    (default: the process environment).
    """
    credentials = load_credentials(session, settings, organisation_id)
    if credentials is None:
        raise ErpLinkMissing(
            f"organisation {organisation_id} has no ERP link: set one with `promax erp set`"
        )
    # NOTE: the address check runs before the request, but requests resolves the
    # host again when it connects, so a DNS answer that changes in between
    # (DNS rebinding) is not caught.
    site_url = validate_site_url(credentials.site_url, settings)
    client_options.setdefault("timeout_seconds", settings.erp_timeout_seconds)
    if "semaphore" not in client_options:
        client_options.setdefault("lock_dir", resolve_lock_dir(settings, environ))
    return ErpClient(site_url, credentials.api_key, credentials.api_secret, **client_options)
