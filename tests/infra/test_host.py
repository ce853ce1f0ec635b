"""Checks of a host converged with playbooks/site.yml.

Run by molecule's verifier, or directly against the `make demo` container:
    CONTAINERS_CONF=tests/host/containers.conf \
        .venv/bin/pytest tests/infra/test_host.py --hosts=podman://promax-demo
"""

import re

import pytest

APP_SOCKET = "/run/promax/gunicorn.sock"
ENV_FILE = "/etc/promax/promax.env"
MEMCACHED_SOCKET = "/run/memcached/memcached.sock"


def is_debian(host):
    return host.system_info.distribution == "debian"


def httpd_service_name(host):
    return "apache2" if is_debian(host) else "httpd"


def httpd_user(host):
    return "www-data" if is_debian(host) else "apache"


def tcp_listeners(host):
    """Return the local addresses of all listening TCP and UDP sockets."""
    output = host.check_output("ss -H -ltun")
    # Columns: Netid State Recv-Q Send-Q Local Peer
    return [line.split()[4] for line in output.splitlines()]


def listeners_of_user(host, user):
    """Return the local TCP and UDP listening addresses of the processes of user.

    Root in the test container lacks CAP_SYS_PTRACE, so `ss -p` run as root
    cannot name the processes of other users. Run as the user itself, ss can
    name that user's own processes, and the sockets it names are theirs.
    """
    output = host.check_output(f"runuser -u {user} -- ss -H -ltunp")
    return [line.split()[4] for line in output.splitlines() if "users:((" in line]


def gunicorn_pids(host):
    """Return the PIDs of the gunicorn arbiter of promax.service and of its workers."""
    main_pid = host.check_output("systemctl show --property MainPID --value promax.service").strip()
    if main_pid in ("", "0"):
        return []
    children = host.run(f"pgrep -P {main_pid}").stdout.split()
    return [main_pid, *children]


def is_loopback(address):
    host_part = address.rsplit(":", 1)[0].strip("[]")
    return host_part == "::1" or host_part.startswith("127.")


@pytest.mark.claim("C-2.1b")
@pytest.mark.parametrize("port", [80, 443])
def test_httpd_listens(host, port):
    assert host.socket(f"tcp://0.0.0.0:{port}").is_listening or host.socket(
        f"tcp://:::{port}"
    ).is_listening


@pytest.mark.claim("C-2.1b")
def test_app_socket_exists(host):
    socket_file = host.file(APP_SOCKET)
    assert socket_file.exists
    assert socket_file.is_socket
    assert socket_file.user == "promax"


@pytest.mark.claim("C-2.1b")
def test_app_socket_not_world_accessible(host):
    socket_dir = host.file("/run/promax")
    assert socket_dir.user == "promax"
    assert socket_dir.group == "promax"
    assert socket_dir.mode & 0o007 == 0
    assert host.file(APP_SOCKET).mode & 0o007 == 0


@pytest.mark.claim("C-2.1b")
def test_httpd_user_can_reach_app_socket(host):
    assert "promax" in host.user(httpd_user(host)).groups


@pytest.mark.claim("C-2.1b")
def test_app_opens_no_tcp_port(host):
    # The demo ERP simulator, also run by user promax, may listen on loopback port 8800.
    for local in listeners_of_user(host, "promax"):
        assert is_loopback(local), f"a promax process listens on {local}"
        assert local.endswith(":8800"), f"a promax process listens on {local}"


@pytest.mark.claim("C-2.1b")
def test_gunicorn_serves_unix_socket(host):
    unix_listeners = host.check_output("runuser -u promax -- ss -H -lxp")
    lines = [line for line in unix_listeners.splitlines() if APP_SOCKET in line]
    assert lines, f"nothing listens on {APP_SOCKET}"
    assert any(f"pid={pid}," in lines[0] for pid in gunicorn_pids(host))


@pytest.mark.claim("C-2.1b")
def test_mariadb_no_tcp_listener(host):
    assert listeners_of_user(host, "mysql") == []


@pytest.mark.claim("C-2.1b")
def test_memcached_socket_options(host):
    # Memcached starts as root and switches to its user, which makes the process
    # non-dumpable, so `ss -p` run as that user cannot name it either. Its
    # command line is checked instead.
    memcached = host.process.get(comm="memcached")
    arguments = memcached.args.split()
    assert "-s" in arguments
    assert "-l" not in arguments
    assert "-U" in arguments
    assert arguments[arguments.index("-U") + 1] == "0"


@pytest.mark.claim("C-2.1b")
def test_tcp_listeners_expected(host):
    # Allowed: httpd on ports 80 and 443, sshd on 22 (administration, not the
    # web), and on loopback only httpd's status page (8081) and the demo ERP
    # simulator (8800).
    unexpected = [
        local
        for local in tcp_listeners(host)
        if local.rsplit(":", 1)[1] not in ("22", "80", "443")
        and not (is_loopback(local) and local.rsplit(":", 1)[1] in ("8081", "8800"))
    ]
    assert unexpected == []


def test_memcached_unix_socket(host):
    socket_file = host.file(MEMCACHED_SOCKET)
    assert socket_file.is_socket
    assert socket_file.mode & 0o007 == 0


def test_mariadb_skip_networking(host):
    output = host.check_output("mariadb -N -B -e \"SELECT @@skip_networking\"")
    assert output.strip() == "1"


@pytest.mark.parametrize(
    "service",
    ["promax", "httpd", "mariadb", "memcached"],
)
def test_service_enabled_and_running(host, service):
    name = httpd_service_name(host) if service == "httpd" else service
    unit = host.service(name)
    assert unit.is_enabled
    assert unit.is_running


def test_sync_timer_active(host):
    timer = host.service("promax-sync.timer")
    assert timer.is_enabled
    assert timer.is_running


def test_system_running(host):
    result = host.run("systemctl is-system-running")
    assert result.stdout.strip() == "running", host.run("systemctl --failed --no-legend").stdout


@pytest.mark.claim("C-3.3a")
def test_env_file_root_only(host):
    env_file = host.file(ENV_FILE)
    assert env_file.user == "root"
    assert env_file.group == "root"
    assert env_file.mode == 0o600


@pytest.mark.claim("C-3.3a")
@pytest.mark.parametrize(
    "path",
    ["/etc/promax/jwt-secret", "/etc/promax/db-password", "/etc/promax/db-admin-password", "/etc/promax/admin.env"],
)
def test_secret_files_root_only(host, path):
    secret_file = host.file(path)
    assert secret_file.user == "root"
    assert secret_file.mode == 0o600


@pytest.mark.claim("C-3.3a")
def test_env_file_has_jwt_secret(host):
    content = host.file(ENV_FILE).content_string
    match = re.search(r'^JWT_SECRET="([0-9a-f]+)"$', content, re.MULTILINE)
    assert match
    assert len(match.group(1)) == 128


@pytest.mark.claim("C-2.1c")
def test_gunicorn_workers_capped(host):
    config = host.file("/etc/promax/gunicorn.conf.py").content_string
    workers = int(re.search(r"^workers = (\d+)$", config, re.MULTILINE).group(1))
    assert 1 <= workers <= 50


@pytest.mark.claim("C-2.1d")
def test_gunicorn_preloads_app(host):
    config = host.file("/etc/promax/gunicorn.conf.py").content_string
    assert re.search(r"^preload_app = True$", config, re.MULTILINE)


@pytest.mark.claim("C-2.4b")
@pytest.mark.parametrize("path", ["/", "/login", "/static/app.js?v=1"])
def test_http_redirects_to_https(host, path):
    output = host.check_output(
        f"curl -s -o /dev/null -w '%{{http_code}} %{{redirect_url}}' -H 'Host: promax.test' http://127.0.0.1{path}"
    )
    status, location = output.split(" ", 1)
    assert status == "301"
    assert location.startswith("https://promax.test")
    assert location.endswith(path)


@pytest.mark.claim("C-2.4a")
@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_old_tls_rejected(host, version):
    result = host.run(
        f"curl -sk -o /dev/null --tlsv{version} --tls-max {version} https://127.0.0.1/"
    )
    assert result.rc != 0


@pytest.mark.claim("C-2.4a")
@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_modern_tls_accepted(host, version):
    result = host.run(
        f"curl -sk -o /dev/null -w '%{{http_code}}' --tlsv{version} --tls-max {version} https://127.0.0.1/"
    )
    assert result.rc == 0
    assert result.stdout != "000"


@pytest.mark.claim("C-2.2a")
def test_hsts_on_https_responses(host):
    headers = host.check_output("curl -sk -D - -o /dev/null https://127.0.0.1/").lower()
    match = re.search(r"^strict-transport-security: max-age=(\d+); includesubdomains", headers, re.MULTILINE)
    assert match
    assert int(match.group(1)) >= 31536000


def test_server_header_hides_version(host):
    headers = host.check_output("curl -sk -D - -o /dev/null https://127.0.0.1/")
    server = re.search(r"^server: (.*)$", headers, re.MULTILINE | re.IGNORECASE)
    assert server
    assert server.group(1).strip() == "Apache"


def test_trace_method_rejected(host):
    status = host.check_output("curl -sk -o /dev/null -w '%{http_code}' -X TRACE https://127.0.0.1/")
    assert status == "405"
