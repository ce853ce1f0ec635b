"""``promax db upgrade``: migrate the control-plane database."""

from promax import migrations


def upgrade(args, context):
    with context.engine.begin() as connection:
        before, after = migrations.upgrade("control", connection)
    return {"changed": before != after, "from": before, "to": after}


def register(subparsers):
    parser = subparsers.add_parser("db", help="manage the control-plane database")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="apply pending migrations").set_defaults(func=upgrade)
