"""The client's IP address, as far as the appliance can trust it."""

import ipaddress


def client_ip(request):
    """Return the address of the client that opened the connection to httpd.

    gunicorn listens on a Unix socket that only httpd can open, so a request
    without a TCP peer came through httpd, and the last X-Forwarded-For entry
    is the one httpd appended. Entries before it are whatever the client sent
    and are ignored. A request with a TCP peer (tests, local tools) uses it.
    """
    peer = request.environ.get("REMOTE_ADDR") or ""
    if peer:
        return peer[:45]
    forwarded = request.headers.get("X-Forwarded-For", "")
    last = forwarded.rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return ""


def request_path(request):
    """Return the request path as the WSGI server passed it, without decoding.

    WebOb's ``request.path`` decodes percent-escapes as UTF-8 and raises on
    bytes such as ``%FF``. Tweens, logs and error views read this raw form
    instead, so hostile paths reach the normal 400 response instead of
    crashing the code that would report them.
    """
    return request.environ.get("SCRIPT_NAME", "") + request.environ.get("PATH_INFO", "")
