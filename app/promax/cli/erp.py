"""``promax erp``: set an organisation's ERP link and test the connection."""

import sys

from promax.cli import CommandError, emit
from promax.cli.tenant import load_organisation
from promax.erp.client import ErpError
from promax.erp.credentials import CredentialError
from promax.erp.limiter import SlotTimeout
from promax.erp.link import ErpCredentials, ErpLinkMissing, InvalidErpUrl, build_client, store_link


def _read_secret():
    line = sys.stdin.readline()
    secret = line.rstrip("\r\n")
    if not secret:
        raise CommandError("no API secret on stdin: pipe it in, for example "
                           "`printf '%s\\n' \"$SECRET\" | promax erp set ...`", exit_status=2)
    return secret


def set_link(args, context):
    if not args.api_secret_stdin:
        raise CommandError(
            "the API secret is read from stdin so it never appears in the process list: "
            "pass --api-secret-stdin",
            exit_status=2,
        )
    secret = _read_secret()
    with context.session() as session, session.begin():
        organisation = load_organisation(session, args.org)
        credentials = ErpCredentials(args.url, args.api_key, secret)
        try:
            changed = store_link(session, context.settings, organisation.id, credentials)
        except InvalidErpUrl as error:
            raise CommandError(str(error), exit_status=2) from None
        except ValueError as error:
            raise CommandError(str(error), exit_status=2) from None
        except CredentialError as error:
            raise CommandError(
                f"the stored ERP link cannot be decrypted ({error}); was JWT_SECRET changed?"
            ) from None
    return {"changed": bool(changed), "org": organisation.slug, "fields_changed": changed}


def test_link(args, context):
    with context.session() as session:
        organisation = load_organisation(session, args.org)
        try:
            client = build_client(session, context.settings, organisation.id, context.environ)
        except (ErpLinkMissing, InvalidErpUrl, CredentialError) as error:
            raise CommandError(str(error)) from None
    with client:
        try:
            user = client.get_logged_user()
        except (ErpError, SlotTimeout) as error:
            emit({"changed": False, "org": organisation.slug, "ok": False, "error": str(error)})
            raise CommandError(f"ERP connection test failed: {error}") from None
    return {"changed": False, "org": organisation.slug, "ok": True, "user": user}


def register(subparsers):
    parser = subparsers.add_parser("erp", help="manage an organisation's ERP link")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    set_parser = actions.add_parser(
        "set", help="store the ERP URL, API key and API secret (encrypted; no change if equal)"
    )
    set_parser.add_argument("org", help="organisation slug")
    set_parser.add_argument("--url", required=True, help="ERP site URL, for example https://erp.example.com")
    set_parser.add_argument("--api-key", required=True, help="API key of a read-only ERP user")
    set_parser.add_argument(
        "--api-secret-stdin",
        action="store_true",
        help="read the API secret from the first line of stdin (required)",
    )
    set_parser.set_defaults(func=set_link)

    test_parser = actions.add_parser("test", help="check that the ERP accepts the stored key")
    test_parser.add_argument("org", help="organisation slug")
    test_parser.set_defaults(func=test_link)
