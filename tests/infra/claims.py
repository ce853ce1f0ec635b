"""Host-level claims of the security policy that tests/infra proves.

Each entry maps a claim ID to a one-line summary. The evidence report lists
every one of them with the tests that carry its ID.
"""

HOST_CLAIMS = {
    "C-2.1a": "Supported OS: AlmaLinux 9 is the target, Debian 12 also works",
    "C-2.1b": "httpd is the only public listener; the app serves a Unix socket only",
    "C-2.1c": "gunicorn worker pool, at most 50 workers by default",
    "C-2.1d": "App code loaded once per pool start (preload)",
    "C-2.4a": "TLS 1.2 and 1.3 only, no weak cipher suites",
    "C-2.4b": "Plain HTTP redirects to HTTPS for every path",
    "C-2.4c": "Certificates issued and renewed automatically, checked by a timer",
    "C-3.3a": "Keys in a root-only (0600) environment file of the service",
    "C-8.1a": "Security events written as JSON lines, rotated daily",
    "C-8.2a": "8-point health check every 5 minutes",
    "C-8.2b": "A failed health check raises an alert (mail or webhook)",
    "C-11.1a": "Security updates applied automatically",
}
