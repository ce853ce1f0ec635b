"""Database connections: pooled, and always in the utf8mb4 character set."""

import pytest
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from promax.db import make_engine


@pytest.mark.claim("C-5.3b")
def test_engine_pools_connections(database_url):
    engine = make_engine(database_url)

    with engine.connect() as first:
        first_id = first.execute(text("SELECT CONNECTION_ID()")).scalar()
    with engine.connect() as second:
        second_id = second.execute(text("SELECT CONNECTION_ID()")).scalar()

    assert isinstance(engine.pool, QueuePool)
    assert first_id == second_id
    engine.dispose()


@pytest.mark.claim("C-5.3b")
def test_connection_charset_is_utf8mb4_whatever_the_url(database_url):
    engine = make_engine(database_url + "&charset=latin1")

    with engine.connect() as connection:
        variables = dict(
            connection.execute(text("SHOW SESSION VARIABLES LIKE 'character_set_c%'")).all()
        )
        stored = connection.execute(text("SELECT CAST(:value AS CHAR)"), {"value": "Zürich 🚚"})

        assert stored.scalar() == "Zürich 🚚"
    assert variables["character_set_client"] == "utf8mb4"
    assert variables["character_set_connection"] == "utf8mb4"
    engine.dispose()
