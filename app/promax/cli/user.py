"""``promax user create``: add a user to an organisation, or bring one up to date."""

import re
import sys

from sqlalchemy import func, select

from promax.auth import passwords
from promax.auth.emails import normalise_email
from promax.auth.policy import ROLES
from promax.cli import CommandError
from promax.cli.tenant import load_organisation
from promax.models.control import User

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[A-Za-z0-9-]{2,63}")


def create(args, context):
    email = normalise_email(args.email)
    if not EMAIL.fullmatch(email):
        raise CommandError(f"invalid email address: {args.email!r}", exit_status=2)
    if not args.password_stdin:
        raise CommandError("give the password on standard input with --password-stdin",
                           exit_status=2)
    password = sys.stdin.readline().rstrip("\n")
    try:
        passwords.check_policy(password)
    except passwords.PasswordPolicyError as error:
        raise CommandError(str(error), exit_status=2) from None

    with context.session() as session, session.begin():
        organisation = load_organisation(session, args.org)
        user = session.scalars(select(User).where(func.lower(User.email) == email)).one_or_none()

        if user is not None and user.organisation_id != organisation.id:
            raise CommandError(f"{email} already belongs to another organisation", exit_status=2)

        changed = False
        if user is None:
            user = User(
                organisation_id=organisation.id,
                email=email,
                display_name=args.display_name or "",
                password_hash=passwords.hash_password(password),
                role=args.role,
                is_active=True,
            )
            session.add(user)
            changed = True
        else:
            if not passwords.verify_password(password, user.password_hash):
                user.password_hash = passwords.hash_password(password)
                user.password_changed_at = func.now()
                changed = True
            if user.role != args.role:
                user.role = args.role
                changed = True
            if args.display_name is not None and user.display_name != args.display_name:
                user.display_name = args.display_name
                changed = True
        session.flush()
        return {"changed": changed, "org": organisation.slug, "email": email,
                "role": user.role, "id": user.id}


def register(subparsers):
    parser = subparsers.add_parser("user", help="manage users")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create_parser = actions.add_parser(
        "create", help="create a user, or update the role and password of an existing one"
    )
    create_parser.add_argument("--org", required=True, help="organisation slug")
    create_parser.add_argument("--email", required=True, help="sign-in email address")
    create_parser.add_argument("--role", choices=ROLES, default="viewer", help="role (default: viewer)")
    create_parser.add_argument("--display-name", help="name shown in the app")
    create_parser.add_argument(
        "--password-stdin", action="store_true",
        help="read the password from the first line of standard input",
    )
    create_parser.set_defaults(func=create)
