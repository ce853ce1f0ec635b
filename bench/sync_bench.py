"""Sync throughput from the ERP simulator into a tenant schema, against a raw baseline.

Three numbers, each from a fresh tenant on a throwaway MariaDB:

- full sync: ``promax sync`` of the seeded dataset (HTTP to the simulator on
  127.0.0.1, JSON decoding, comparison with stored rows, upserts committed
  page by page), as rows written per second;
- raw insert: the same rows, read back from the synced schema, inserted into
  an empty second tenant with PyMySQL ``executemany``, one commit per table:
  the floor that no sync can beat on this machine;
- re-sync: a second ``promax sync`` with nothing changed in the ERP.

Run from the repository root:

    .venv/bin/python bench/sync_bench.py

It prints one JSON object; docs/benchmarks.md records the results.
"""

import io
import json
import secrets
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import pymysql  # noqa: E402

from promax.cli import main as promax_main  # noqa: E402
from promax.erpsim.dataset import build_dataset  # noqa: E402
from promax.erpsim.server import Simulator  # noqa: E402
from support.servers import MariaDBServer, MemcachedServer  # noqa: E402

API_KEY = "bench-key-0123456789"
API_SECRET = "bench-secret-9f8e7d6c5b4a"
# Tables the app keeps for itself; the baseline copies only ERP mirrors.
APP_TABLES = {"sync_state", "sync_run", "cache_entry", "alembic_version"}


def run_promax(environ, *argv, stdin=None):
    """Run one ``promax`` command in-process and return its JSON result."""
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    output = io.StringIO()
    with redirect_stdout(output):
        status = promax_main(list(argv), environ=environ)
    if status != 0:
        raise RuntimeError(f"promax {' '.join(argv)} exited {status}")
    return json.loads(output.getvalue().strip().splitlines()[-1])


def mirror_rows(connection, schema):
    """Return {table: (columns, rows)} for every ERP mirror table of a schema."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        )
        tables = sorted(row[0] for row in cursor.fetchall() if row[0] not in APP_TABLES)
        contents = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM `{schema}`.`{table}`")
            columns = [column[0] for column in cursor.description]
            contents[table] = (columns, cursor.fetchall())
    return contents


def raw_insert(connection, schema, contents):
    """Insert the rows with executemany, one transaction per table; return seconds."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        for table, (columns, rows) in contents.items():
            if not rows:
                continue
            names = ", ".join(f"`{column}`" for column in columns)
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO `{schema}`.`{table}` ({names}) VALUES ({marks})", rows)
            connection.commit()
        cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
    return time.perf_counter() - started


def main():
    mariadb = MariaDBServer().start()
    memcached = MemcachedServer().start()
    simulator = Simulator(build_dataset(), API_KEY, API_SECRET, host="127.0.0.1", port=0).start()
    lock_dir = tempfile.mkdtemp(prefix="promax-bench-locks-")
    try:
        with mariadb.root_connection() as connection, connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE promax_bench CHARACTER SET utf8mb4")
        environ = {
            "JWT_SECRET": secrets.token_hex(32),
            "PROMAX_DATABASE_URL": mariadb.url("promax_bench"),
            "PROMAX_DATABASE_ADMIN_URL": mariadb.admin_url(),
            "PROMAX_MEMCACHED_SERVER": memcached.address,
            "PROMAX_ENVIRONMENT": "production",
            "PROMAX_ERP_ALLOW_PRIVATE_ADDRESSES": "true",
            "PROMAX_ERP_LOCK_DIR": lock_dir,
            "PROMAX_LOG_LEVEL": "WARNING",
        }
        run_promax(environ, "db", "upgrade")
        synced = run_promax(environ, "tenant", "create", "synced")
        baseline = run_promax(environ, "tenant", "create", "baseline")
        run_promax(environ, "erp", "set", "synced", "--url", simulator.url,
                   "--api-key", API_KEY, "--api-secret-stdin", stdin=API_SECRET + "\n")

        started = time.perf_counter()
        first = run_promax(environ, "sync", "synced")
        full_seconds = time.perf_counter() - started

        started = time.perf_counter()
        second = run_promax(environ, "sync", "synced")
        resync_seconds = time.perf_counter() - started

        with mariadb.root_connection() as connection:
            contents = mirror_rows(connection, synced["schema"])
            rows = sum(len(table_rows) for _columns, table_rows in contents.values())
            connection.autocommit(False)
            raw_seconds = raw_insert(connection, baseline["schema"], contents)

        print(json.dumps({
            "rows": rows,
            "rows_changed_by_sync": first["rows_changed"],
            "full_sync_seconds": round(full_seconds, 2),
            "full_sync_rows_per_second": round(first["rows_changed"] / full_seconds),
            "raw_executemany_seconds": round(raw_seconds, 2),
            "raw_executemany_rows_per_second": round(rows / raw_seconds),
            "ratio_sync_to_raw": round((first["rows_changed"] / full_seconds) / (rows / raw_seconds), 3),
            "resync_seconds": round(resync_seconds, 2),
            "resync_rows_changed": second["rows_changed"],
        }, indent=2))
    finally:
        simulator.stop()
        memcached.stop()
        mariadb.stop()


if __name__ == "__main__":
    main()
