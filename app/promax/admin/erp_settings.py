"""The organisation's ERP link for admins: a settings page, a JSON API and a connection test.

Responses show the host of the site URL and the last characters of the API
key, never the API secret. The credentials are decrypted only inside
``promax.erp.link`` and live in memory for the duration of one request.
"""

import logging
from urllib.parse import urlsplit

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from promax.audit import record_request_event
from promax.erp.client import ErpError
from promax.erp.credentials import CredentialError
from promax.erp.limiter import SlotTimeout
from promax.erp.link import (
    ErpCredentials,
    ErpLinkMissing,
    InvalidErpUrl,
    build_client,
    load_credentials,
    store_link,
)
from promax.validation import StrictSchema, ValidationFailed, load, rules

log = logging.getLogger(__name__)

PERMISSION = "organisation.settings"
TEMPLATE = "promax:templates/admin_erp_settings.jinja2"
# Characters of the API key shown at the end of its masked form.
KEY_VISIBLE_CHARS = 4
# Keys shorter than this are masked completely, so the visible part never
# gives away most of the key.
KEY_MIN_LENGTH_TO_SHOW = 12
UNREADABLE_LINK = (
    "The stored ERP link cannot be decrypted with the current key: "
    "JWT_SECRET may have changed without JWT_SECRET_PREVIOUS. Enter the link again."
)


class ErpSettingsBody(StrictSchema):
    site_url = rules.url(required=True)
    api_key = rules.string(min_length=1, max_length=200, required=True)
    api_secret = rules.string(min_length=1, max_length=200, required=True, load_only=True)


class ErpSettingsSchema(StrictSchema):
    configured = rules.boolean(required=True)
    site_host = rules.string(required=True, allow_none=True)
    api_key_masked = rules.string(required=True, allow_none=True)
    error = rules.string(required=True, allow_none=True)


class ErpSettingsUpdatedSchema(ErpSettingsSchema):
    fields_changed = rules.list_of(rules.one_of(("site_url", "api_key", "api_secret")),
                                   required=True)


class ConnectionTestSchema(StrictSchema):
    ok = rules.boolean(required=True)
    erp_user = rules.string(required=True, allow_none=True)
    error = rules.string(required=True, allow_none=True)


def mask_key(api_key):
    """Return the API key with all but its last few characters replaced by bullets."""
    if len(api_key) < KEY_MIN_LENGTH_TO_SHOW:
        return "\u2022" * 8
    return "\u2022" * 8 + api_key[-KEY_VISIBLE_CHARS:]


def link_summary(request):
    """Return what an admin may see of the organisation's link."""
    settings = request.registry["promax.settings"]
    organisation_id = request.identity.organisation_id
    try:
        credentials = load_credentials(request.dbsession, settings, organisation_id)
    except CredentialError as error:
        log.error("ERP link cannot be decrypted",
                  extra={"organisation_id": organisation_id, "error": str(error)})
        return {"configured": True, "site_host": None, "api_key_masked": None,
                "error": UNREADABLE_LINK}
    if credentials is None:
        return {"configured": False, "site_host": None, "api_key_masked": None, "error": None}
    return {
        "configured": True,
        "site_host": urlsplit(credentials.site_url).hostname,
        "api_key_masked": mask_key(credentials.api_key),
        "error": None,
    }


def update_link(request, values):
    """Store the link from validated values; return the names of the changed fields.

    Raises ValidationFailed when the URL is rejected (scheme, address) or the
    stored link cannot be decrypted for comparison.
    """
    settings = request.registry["promax.settings"]
    credentials = ErpCredentials(values["site_url"], values["api_key"], values["api_secret"])
    try:
        return store_link(request.dbsession, settings, request.identity.organisation_id,
                          credentials, user_id=request.identity.user_id,
                          ip_address=request.client_ip or "")
    except InvalidErpUrl as error:
        raise ValidationFailed({"site_url": [str(error)]}) from None
    except CredentialError:
        # store_link compares with the stored link first; an unreadable one
        # is replaced only after an operator fixes the key, never silently.
        raise ValidationFailed({"_schema": [UNREADABLE_LINK]}) from None


def check_connection(request):
    """Ask the ERP which user the stored key belongs to; return the outcome as a dict.

    Error messages come from promax.erp and name the host, path and HTTP
    status. They pass through the client's redaction as well, so neither the
    key nor the secret can reach the response.
    """
    settings = request.registry["promax.settings"]
    organisation_id = request.identity.organisation_id
    try:
        client = build_client(request.dbsession, settings, organisation_id)
    except ErpLinkMissing:
        outcome = {"ok": False, "erp_user": None, "error": "No ERP link is set yet."}
    except InvalidErpUrl as error:
        outcome = {"ok": False, "erp_user": None, "error": str(error)}
    except CredentialError:
        outcome = {"ok": False, "erp_user": None, "error": UNREADABLE_LINK}
    else:
        with client:
            try:
                user = client.get_logged_user()
                outcome = {"ok": True, "erp_user": str(user) if user is not None else None,
                           "error": None}
            except (ErpError, SlotTimeout) as error:
                outcome = {"ok": False, "erp_user": None, "error": client.redact(str(error))}

    level = logging.INFO if outcome["ok"] else logging.WARNING
    record_request_event(request, "erp.connection_tested", level=level, ok=outcome["ok"],
                         error=outcome["error"])
    return outcome


def page_values(request, error=None, test_result=None):
    return {"link": link_summary(request), "error": error, "test_result": test_result}


def _field_messages(error):
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.fields.items())


@view_config(route_name="admin_erp_settings", request_method="GET", renderer=TEMPLATE,
             permission=PERMISSION)
def erp_settings_page(request):
    return page_values(request)


@view_config(route_name="admin_erp_settings", request_method="POST", renderer=TEMPLATE,
             permission=PERMISSION)
def erp_settings_form(request):
    form = request.POST
    values = {
        "site_url": form.get("site_url", "").strip(),
        "api_key": form.get("api_key", "").strip(),
        "api_secret": form.get("api_secret", ""),
    }
    try:
        update_link(request, load(ErpSettingsBody(), values))
    except ValidationFailed as error:
        request.response.status_int = 422
        return page_values(request, error=_field_messages(error))
    return HTTPSeeOther(request.route_url("admin_erp_settings"))


@view_config(route_name="admin_erp_settings_test", request_method="POST", renderer=TEMPLATE,
             permission=PERMISSION)
def erp_settings_test_form(request):
    return page_values(request, test_result=check_connection(request))


@view_config(route_name="api.admin_erp_settings", request_method="GET", renderer="json",
             permission=PERMISSION, response_schema=ErpSettingsSchema)
def erp_settings_api(request):
    """Show the ERP link: the host of its URL and the masked API key, never the secret."""
    return link_summary(request)


@view_config(route_name="api.admin_erp_settings", request_method="PUT", renderer="json",
             permission=PERMISSION, body_schema=ErpSettingsBody,
             response_schema=ErpSettingsUpdatedSchema)
def erp_settings_update_api(request):
    """Set the ERP link's URL, API key and API secret; an identical link is left as is."""
    changed = update_link(request, request.validated["body"])
    return {**link_summary(request), "fields_changed": changed}


@view_config(route_name="api.admin_erp_settings_test", request_method="POST", renderer="json",
             permission=PERMISSION, response_schema=ConnectionTestSchema)
def erp_settings_test_api(request):
    """Test the stored ERP link by asking the ERP which user its API key belongs to."""
    return check_connection(request)
