"""Database access: one pooled engine, a control-plane session per request,
and tenant connections routed to one organisation's schema.
"""

import logging

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

log = logging.getLogger(__name__)


def make_engine(database_url, **kwargs):
    """Create the pooled engine for MariaDB, forcing the utf8mb4 character set.

    The charset is set here whatever the URL says, so a deployment cannot
    fall back to MariaDB's 3-byte utf8 and mangle ERP names.
    """
    url = make_url(database_url)
    url = url.update_query_dict({"charset": "utf8mb4"})
    options = {
        "pool_pre_ping": True,
        "pool_recycle": 3600,
        "pool_size": 5,
        "max_overflow": 10,
    }
    options.update(kwargs)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _set_session_options(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(
                "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
                "NO_ZERO_DATE,NO_ZERO_IN_DATE,NO_ENGINE_SUBSTITUTION'"
            )
            cursor.execute("SET SESSION time_zone = '+00:00'")

    return engine


def make_session_factory(engine):
    return sessionmaker(bind=engine, expire_on_commit=False)


def _dbsession(request):
    """Return the request's control-plane session; the transaction tween ends it."""
    session = request.registry["db.session_factory"]()
    request.add_finished_callback(lambda _request: session.close())
    return session


def transaction_tween_factory(handler, registry):
    """Commit the control-plane session when a request succeeds, roll back otherwise."""

    def transaction_tween(request):
        try:
            response = handler(request)
        except Exception:
            if "dbsession" in request.__dict__:
                request.dbsession.rollback()
            raise
        if "dbsession" in request.__dict__:
            if response.status_int < 400:
                request.dbsession.commit()
            else:
                request.dbsession.rollback()
        return response

    return transaction_tween


def includeme(config):
    settings = config.registry["promax.settings"]
    engine = config.registry.get("db.engine") or make_engine(settings.database_url)
    config.registry["db.engine"] = engine
    config.registry["db.session_factory"] = make_session_factory(engine)
    config.add_request_method(_dbsession, "dbsession", reify=True)
    config.add_tween("promax.db.transaction_tween_factory")
