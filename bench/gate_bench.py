"""Requests per second of a warm, signed-in tab request against a bare Pyramid view.

Both apps run under gunicorn with the production configuration rendered
from templates/php-fpm-equivalent/gunicorn.conf.py.j2 (sync workers,
2 x vCPUs + 1 of them, preloaded app, access log on). The ProMax request is
``GET /api/v1/overview/sales`` with a live session whose identity, rate
counters and tab value are already in Memcached. The bare app serves
``GET /bare`` with a fixed JSON object and has no tweens of ours.

Run from the repository root:

    .venv/bin/python bench/gate_bench.py --seconds 20 --clients 8

It starts its own MariaDB and Memcached (tests/support/servers.py) and
prints one JSON object with both rates and their ratio.
"""

import argparse
import io
import json
import multiprocessing
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from support.servers import MariaDBServer, MemcachedServer  # noqa: E402

PASSWORD = "correct horse battery staple"


def render_gunicorn_config(directory, socket_path, wsgi_app, workers):
    import jinja2

    template = (ROOT / "templates/php-fpm-equivalent/gunicorn.conf.py.j2").read_text()
    text = jinja2.Template(template).render(
        promax_app_socket=socket_path,
        promax_app_gunicorn_workers=workers,
        promax_app_gunicorn_timeout=60,
        promax_app_gunicorn_max_requests=0,  # no worker restarts during a run
        promax_app_gunicorn_max_requests_jitter=0,
    )
    text = text.replace('wsgi_app = "promax.wsgi:application"', f'wsgi_app = "{wsgi_app}"')
    # The access log goes to a file, so the terminal does not slow the run.
    path = Path(directory) / f"gunicorn-{wsgi_app.split(':')[0]}.conf.py"
    path.write_text(text)
    return path


def start_gunicorn(config_path, socket_path, environ, log_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(config_path)],
        env={**os.environ, **environ, "PYTHONPATH": f"{ROOT / 'app'}:{ROOT / 'bench'}"},
        stdout=open(log_path, "wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if os.path.exists(socket_path):
            return process
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log_path}")
        time.sleep(0.1)
    raise TimeoutError("gunicorn did not open its socket")


def request_bytes(path, cookie):
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: promax.test",
        "X-Forwarded-Proto: https",
        "X-Forwarded-For: 192.0.2.1",
        "Accept: application/json",
        "Connection: close",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def fetch(socket_path, payload):
    with socket.socket(socket.AF_UNIX) as connection:
        connection.connect(socket_path)
        connection.sendall(payload)
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    response = b"".join(chunks)
    return int(response[9:12]), response


def client_loop(socket_path, payload, seconds, results):
    deadline = time.monotonic() + seconds
    done = 0
    bad = 0
    while time.monotonic() < deadline:
        status, _ = fetch(socket_path, payload)
        done += 1
        if status != 200:
            bad += 1
    results.put((done, bad))


def measure(socket_path, payload, seconds, clients):
    """Return requests per second over `seconds` with `clients` processes."""
    status, response = fetch(socket_path, payload)
    if status != 200:
        raise RuntimeError(f"warm-up request failed: {response[:500]!r}")
    for _ in range(50):  # fill caches and rate counters in every worker
        fetch(socket_path, payload)
    results = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=client_loop,
                                       args=(socket_path, payload, seconds, results))
               for _ in range(clients)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    totals = [results.get() for _ in workers]
    elapsed = time.monotonic() - started
    for worker in workers:
        worker.join()
    done = sum(t[0] for t in totals)
    bad = sum(t[1] for t in totals)
    if bad:
        raise RuntimeError(f"{bad} of {done} requests did not return 200")
    return done / elapsed


def prepare_promax(environ):
    """Migrate, create the acme organisation and an admin; return a session cookie."""
    from promax.cli import main as promax_main

    def run(*argv, stdin=None):
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        output = io.StringIO()
        with redirect_stdout(output):
            status = promax_main(list(argv), environ=environ)
        if status != 0:
            raise RuntimeError(f"promax {' '.join(argv)} exited {status}")

    run("db", "upgrade")
    run("tenant", "create", "acme", "--name", "Acme Corp")
    run("user", "create", "--org", "acme", "--email", "admin@acme.example", "--role", "admin",
        "--password-stdin", stdin=PASSWORD + "\n")

    from promax import make_config
    from promax.auth import sessions, tokens
    from promax.models.control import User

    registry = make_config(environ=environ).registry
    settings = registry["promax.settings"]
    lifetime = tokens.session_lifetime(settings.session_hours)
    with registry["db.session_factory"]() as dbsession, dbsession.begin():
        user = dbsession.query(User).filter(User.email == "admin@acme.example").one()
        session = sessions.create_session(dbsession, user, "192.0.2.1", "bench", lifetime)
        token = tokens.issue_token(settings.jwt_secret, user.id, user.organisation_id,
                                   session.id, lifetime)
    return f"promax_session={token}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="duration of each run, in s")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes")
    parser.add_argument("--workers", type=int, default=2 * os.cpu_count() + 1,
                        help="gunicorn workers (default: 2 x CPUs + 1, as deployed)")
    args = parser.parse_args()

    mariadb = MariaDBServer().start()
    memcached = MemcachedServer().start()
    directory = tempfile.mkdtemp(prefix="promax-bench-")
    processes = []
    try:
        name = "promax_bench_" + secrets.token_hex(4)
        with mariadb.root_connection() as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        environ = {
            "JWT_SECRET": secrets.token_hex(32),
            "PROMAX_DATABASE_URL": mariadb.url(name),
            "PROMAX_MEMCACHED_SERVER": memcached.address,
            "PROMAX_ENVIRONMENT": "production",
            "PROMAX_LOG_LEVEL": "WARNING",
            # The load comes from one address and one user; the limits are
            # raised so that the run measures the gate's work, not 429s.
            "PROMAX_RATE_LIMIT_PER_IP": "100000000",
            "PROMAX_RATE_LIMIT_PER_USER": "100000000",
        }
        if hasattr(mariadb, "admin_url"):
            environ["PROMAX_DATABASE_ADMIN_URL"] = mariadb.admin_url()
        cookie = prepare_promax(environ)

        results = {}
        for label, wsgi_app, path, session_cookie in (
            ("bare_pyramid", "bare_app:application", "/bare", None),
            ("promax_cached_tab", "promax.wsgi:application", "/api/v1/overview/sales", cookie),
        ):
            socket_path = os.path.join(directory, f"{label}.sock")
            config = render_gunicorn_config(directory, socket_path, wsgi_app, args.workers)
            process = start_gunicorn(config, socket_path, environ,
                                     os.path.join(directory, f"{label}.log"))
            processes.append(process)
            try:
                results[label] = measure(socket_path, request_bytes(path, session_cookie),
                                         args.seconds, args.clients)
            finally:
                process.terminate()
                process.wait(30)

        print(json.dumps({
            "requests_per_second": {k: round(v, 1) for k, v in results.items()},
            "ratio_promax_to_bare": round(results["promax_cached_tab"] / results["bare_pyramid"],
                                          3),
            "seconds": args.seconds,
            "clients": args.clients,
            "gunicorn_workers": args.workers,
            "cpus": os.cpu_count(),
        }))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        memcached.stop()
        mariadb.stop()


if __name__ == "__main__":
    main()
