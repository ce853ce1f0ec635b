"""``promax keys rotate``: re-encrypt stored secrets under the key of the current JWT_SECRET.

Run it after JWT_SECRET was replaced and the old value moved to
JWT_SECRET_PREVIOUS. It rewrites every ERP link field and TOTP secret that
does not decrypt under the current key, so the previous secret can then be
removed. A second run changes nothing.
"""

import logging

from sqlalchemy import select

from promax.auth.totp_cipher import TotpCipher, TotpSecretError
from promax.cli import CommandError, emit
from promax.erp.credentials import CredentialCipher, CredentialError
from promax.erp.link import FIELDS
from promax.models.control import ErpLink, User

log = logging.getLogger(__name__)


def rotate_erp_links(session, settings):
    """Re-encrypt stale ERP link fields; return (links changed, links total, failed org ids)."""
    cipher = CredentialCipher.from_settings(settings)
    changed = 0
    failed = []
    links = session.scalars(select(ErpLink).order_by(ErpLink.organisation_id)).all()
    for link in links:
        stale = [name for name in FIELDS
                 if not cipher.is_current(link.organisation_id, name, getattr(link, name))]
        if not stale:
            continue
        try:
            sealed = {name: cipher.reencrypt(link.organisation_id, name, getattr(link, name))
                      for name in stale}
        except CredentialError as error:
            log.error("ERP link not re-encrypted",
                      extra={"organisation_id": link.organisation_id, "error": str(error)})
            failed.append(link.organisation_id)
            continue
        for name, value in sealed.items():
            setattr(link, name, value)
        changed += 1
    return changed, len(links), failed


def rotate_totp_secrets(session, settings):
    """Re-encrypt stale TOTP secrets; return (users changed, users with a secret, failed ids)."""
    cipher = TotpCipher.from_settings(settings)
    changed = 0
    failed = []
    users = session.scalars(
        select(User).where(User.totp_secret.is_not(None)).order_by(User.id)
    ).all()
    for user in users:
        if cipher.is_current(user.id, user.totp_secret):
            continue
        try:
            secret = cipher.decrypt(user.id, user.totp_secret)
        except TotpSecretError as error:
            log.error("TOTP secret not re-encrypted", extra={"user_id": user.id, "error": str(error)})
            failed.append(user.id)
            continue
        user.totp_secret = cipher.encrypt(user.id, secret)
        changed += 1
    return changed, len(users), failed


def rotate(args, context):
    settings = context.settings
    with context.session() as session, session.begin():
        links_changed, links_total, links_failed = rotate_erp_links(session, settings)
        totp_changed, totp_total, totp_failed = rotate_totp_secrets(session, settings)

    result = {
        "changed": bool(links_changed or totp_changed),
        "erp_links": {"reencrypted": links_changed, "total": links_total,
                      "failed": links_failed},
        "totp_secrets": {"reencrypted": totp_changed, "total": totp_total,
                         "failed": totp_failed},
        "previous_secret_set": settings.jwt_secret_previous is not None,
    }
    log.info("key rotation finished", extra={
        "erp_links_reencrypted": links_changed, "totp_secrets_reencrypted": totp_changed,
        "erp_links_failed": len(links_failed), "totp_secrets_failed": len(totp_failed),
    })
    if links_failed or totp_failed:
        # The readable secrets are committed above; the rest need the secret
        # they were written with in JWT_SECRET or JWT_SECRET_PREVIOUS.
        emit(result)
        raise CommandError(
            f"{len(links_failed)} ERP link(s) and {len(totp_failed)} TOTP secret(s) decrypt "
            "under neither JWT_SECRET nor JWT_SECRET_PREVIOUS; set JWT_SECRET_PREVIOUS to the "
            "secret they were written with and run `promax keys rotate` again"
        )
    return result


def register(subparsers):
    parser = subparsers.add_parser("keys", help="manage the keys derived from JWT_SECRET")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate_parser = actions.add_parser(
        "rotate",
        help="re-encrypt every ERP link and TOTP secret under the current JWT_SECRET "
             "(idempotent); prints the counts as JSON",
    )
    rotate_parser.set_defaults(func=rotate)
