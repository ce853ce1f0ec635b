"""Logical backup and restore of one tenant schema, through the admin connection.

A backup file is gzip-compressed JSON lines: a header with the organisation
id, the schema's alembic revision and each table's ``SHOW CREATE TABLE``
text, then per table a line naming its columns followed by one line per row.
Values keep their exact types: decimals, dates, datetimes with microseconds,
times and bytes are tagged, so a restore writes back identical rows and
``CHECKSUM TABLE`` matches. Only this tenant's schema is read or written.

The dump reads every table in one consistent-snapshot transaction. Restore
replaces the schema's tables while holding the organisation's sync lock, so
no sync writes half-way through.
"""

import base64
import gzip
import json
import logging
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, text

from promax.models.tenant import VERSION_TABLE
from promax.tenants.schema import schema_name

log = logging.getLogger(__name__)

FORMAT = "promax-tenant-backup"
FORMAT_VERSION = 1
INSERT_BATCH = 500


class BackupError(Exception):
    """Raised when a backup file is unreadable or belongs to another organisation."""


def _encode(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, timedelta):
        return {"time_us": (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, float):
        return {"float": repr(value)}
    raise BackupError(f"cannot back up a value of type {type(value).__name__}")


def _decode(value):
    if not isinstance(value, dict):
        return value
    (kind, raw), = value.items()
    if kind == "decimal":
        return Decimal(raw)
    if kind == "datetime":
        return datetime.fromisoformat(raw)
    if kind == "date":
        return date.fromisoformat(raw)
    if kind == "time_us":
        return timedelta(microseconds=raw)
    if kind == "bytes":
        return base64.b64decode(raw)
    if kind == "float":
        return float(raw)
    raise BackupError(f"unknown value tag {kind!r} in backup file")


def _quote(connection, name):
    return connection.dialect.identifier_preparer.quote_identifier(name)


def _tables(connection, schema):
    rows = connection.execute(
        text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = :schema AND table_type = 'BASE TABLE' ORDER BY table_name"
        ),
        {"schema": schema},
    )
    return [row[0] for row in rows]


def table_checksums(engine, organisation_id):
    """Return {table: CHECKSUM TABLE value} for every table of the tenant's schema."""
    schema = schema_name(organisation_id)
    with engine.connect() as connection:
        result = {}
        for table in _tables(connection, schema):
            qualified = f"{_quote(connection, schema)}.{_quote(connection, table)}"
            row = connection.execute(text(f"CHECKSUM TABLE {qualified}")).one()
            result[table] = row[1]
        return result


def write_backup(engine, organisation_id, path):
    """Dump the tenant's schema into ``path`` (created with mode 0600); return row counts."""
    schema = schema_name(organisation_id)
    counts = {}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as output:
        with engine.connect() as connection:
            connection.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            tables = _tables(connection, schema)
            creates = []
            for table in tables:
                qualified = f"{_quote(connection, schema)}.{_quote(connection, table)}"
                creates.append(
                    {"name": table,
                     "create": connection.execute(text(f"SHOW CREATE TABLE {qualified}")).one()[1]}
                )
            revision = None
            if VERSION_TABLE in tables:
                revision = connection.execute(
                    text(f"SELECT version_num FROM {_quote(connection, schema)}.{VERSION_TABLE}")
                ).scalar()
            header = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "organisation_id": organisation_id,
                "schema": schema,
                "revision": revision,
                "created_at": datetime.now(UTC).isoformat(),
                "tables": creates,
            }
            output.write(json.dumps(header) + "\n")
            for table in tables:
                qualified = f"{_quote(connection, schema)}.{_quote(connection, table)}"
                result = connection.execution_options(stream_results=True).execute(
                    text(f"SELECT * FROM {qualified}")
                )
                output.write(json.dumps({"table": table, "columns": list(result.keys())}) + "\n")
                counts[table] = 0
                for row in result:
                    output.write(json.dumps([_encode(value) for value in row]) + "\n")
                    counts[table] += 1
            connection.exec_driver_sql("COMMIT")
    log.info("tenant backed up",
             extra={"organisation_id": organisation_id, "rows": sum(counts.values())})
    return counts


def read_header(path):
    try:
        with gzip.open(path, "rt", encoding="utf-8") as source:
            header = json.loads(source.readline())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BackupError(f"{path} is not a ProMax tenant backup: {error}") from None
    if header.get("format") != FORMAT or header.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is not a ProMax tenant backup of format version {FORMAT_VERSION}"
        )
    return header


def restore_backup(engine, organisation_id, path):
    """Replace the tenant's tables with the contents of a backup; return row counts.

    The file must be a backup of the same organisation. The schema must
    exist (``promax tenant create`` makes it); its current tables are dropped.
    """
    header = read_header(path)
    if header["organisation_id"] != organisation_id:
        raise BackupError(
            f"{path} is a backup of organisation {header['organisation_id']}, not of "
            f"{organisation_id}; restore it into the organisation it came from"
        )
    schema = schema_name(organisation_id)
    lock_name = "promax-sync-" + organisation_id
    counts = {}
    with engine.connect() as connection:
        if connection.execute(select(func.get_lock(lock_name, 10))).scalar() != 1:
            raise BackupError(
                f"a sync of organisation {organisation_id} is running; restore after it finishes"
            )
        try:
            connection.exec_driver_sql(f"USE {_quote(connection, schema)}")
            connection.exec_driver_sql("SET SESSION foreign_key_checks = 0")
            for table in _tables(connection, schema):
                connection.exec_driver_sql(f"DROP TABLE {_quote(connection, table)}")
            for table in header["tables"]:
                connection.exec_driver_sql(table["create"])
            with gzip.open(path, "rt", encoding="utf-8") as source:
                source.readline()
                statement, batch, table = None, [], None
                for line in source:
                    record = json.loads(line)
                    if isinstance(record, dict):
                        _flush(connection, statement, batch)
                        batch = []
                        table = record["table"]
                        columns = ", ".join(_quote(connection, c) for c in record["columns"])
                        marks = ", ".join(["%s"] * len(record["columns"]))
                        statement = (
                            f"INSERT INTO {_quote(connection, table)} ({columns}) VALUES ({marks})"
                        )
                        counts[table] = 0
                        continue
                    batch.append(tuple(_decode(value) for value in record))
                    counts[table] += 1
                    if len(batch) >= INSERT_BATCH:
                        _flush(connection, statement, batch)
                        batch = []
                _flush(connection, statement, batch)
            connection.exec_driver_sql("SET SESSION foreign_key_checks = 1")
            connection.commit()
        finally:
            connection.execute(select(func.release_lock(lock_name)))
    log.info("tenant restored",
             extra={"organisation_id": organisation_id, "rows": sum(counts.values())})
    return counts


def _flush(connection, statement, batch):
    if statement and batch:
        connection.exec_driver_sql(statement, batch)
