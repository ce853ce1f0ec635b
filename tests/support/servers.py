"""Throwaway MariaDB and Memcached servers for tests and benchmarks.

Each server runs from Debian's packages in a temporary directory, listens
on a Unix socket only and is stopped when the test session ends.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pymysql

APP_USER = "promax"
APP_PASSWORD = "promax-test-password"


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not become ready within {timeout} s")


def _require(binary, package):
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if os.path.exists(f"/usr/sbin/{binary}") else None)
    if path is None:
        raise RuntimeError(f"{binary} not found: install Debian's {package} package (make test-deps)")
    return path


class MariaDBServer:
    """A MariaDB server with a ``promax`` account like the one the playbook creates."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="promax-mariadb-"))
        self.datadir = self.directory / "data"
        self.socket = self.directory / "mysqld.sock"
        self.process = None

    def start(self):
        install_db = _require("mariadb-install-db", "mariadb-server")
        mariadbd = _require("mariadbd", "mariadb-server")
        subprocess.run(
            [
                install_db,
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
        self.process = subprocess.Popen(
            [
                mariadbd,
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--socket={self.socket}",
                "--skip-networking",
                "--user=root",
                f"--pid-file={self.directory / 'mysqld.pid'}",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=2",
                "--local-infile=0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.directory / "mysqld.err", "wb"),
        )
        _wait_for(self._answers, 30, "MariaDB")
        with self.root_connection() as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE USER '{APP_USER}'@'localhost' IDENTIFIED BY '{APP_PASSWORD}'")
            # Control plane only: tenant schemas are reached through each
            # tenant's own account, which `promax tenant create` makes.
            cursor.execute(f"GRANT ALL ON `promax%`.* TO '{APP_USER}'@'localhost'")
        return self

    def _answers(self):
        if self.process.poll() is not None:
            log = (self.directory / "mysqld.err").read_text(errors="replace")
            raise RuntimeError(f"mariadbd exited early:\n{log[-2000:]}")
        try:
            self.root_connection().close()
            return True
        except pymysql.err.OperationalError:
            return False

    def root_connection(self, database=None):
        return pymysql.connect(
            unix_socket=str(self.socket), user="root", database=database, autocommit=True
        )

    def url(self, database, user=APP_USER, password=APP_PASSWORD):
        return f"mysql+pymysql://{user}:{password}@localhost/{database}?unix_socket={self.socket}"

    def admin_url(self):
        """Return the URL of the root account, which PROMAX_DATABASE_ADMIN_URL takes in tests."""
        return f"mysql+pymysql://root@localhost/mysql?unix_socket={self.socket}"

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


class MemcachedServer:
    """A Memcached server on a Unix socket, UDP off, 64 MB of memory."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="promax-memcached-"))
        self.socket = self.directory / "memcached.sock"
        self.process = None

    def start(self):
        memcached = _require("memcached", "memcached")
        command = [memcached, "-s", str(self.socket), "-a", "0600", "-U", "0", "-m", "64"]
        if os.geteuid() == 0:
            command += ["-u", "root"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(self._answers, 10, "Memcached")
        return self

    def _answers(self):
        if self.process.poll() is not None:
            raise RuntimeError("memcached exited early")
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(self.socket))
                return True
            except OSError:
                return False

    @property
    def address(self):
        return str(self.socket)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)
