"""The OpenAPI document and a bounded schemathesis run against it."""

import collections

import pytest
import schemathesis
import webtest
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from support.gate import auth_headers, route_views, session_token

from promax.admin.api import UserCreateBody
from promax.openapi import schema_of

# Examples per operation; about 20 operations keep the run near a minute.
MAX_EXAMPLES = 30

# Every check of schemathesis runs except positive_data_acceptance, which
# expects each schema-valid body to succeed. Rules beyond the schema reject
# some on purpose: the password policy (common or repeated-character
# passwords), duplicate emails and an admin removing their own admin role.


def test_document_lists_every_api_route(app, browser):
    document = browser.get("/api/openapi.json").json
    operations = {
        (path, method) for path, methods in document["paths"].items() for method in methods
    }
    api_views = [row for row in route_views(app.registry) if row[0].startswith("api.")]

    assert document["openapi"] == "3.0.3"
    assert len(operations) == len(api_views)
    assert ("/api/v1/admin/users", "post") in operations


@pytest.mark.claim("C-5.2a")
def test_document_uses_validation_schemas(browser):
    document = browser.get("/api/openapi.json").json

    body = document["paths"]["/api/v1/admin/users"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == schema_of(UserCreateBody)


@pytest.fixture
def fuzzed_app(environ, app):
    from promax import make_config

    generous = {**environ, "PROMAX_RATE_LIMIT_PER_IP": "100000",
                "PROMAX_RATE_LIMIT_PER_USER": "100000"}
    return make_config(environ=generous).make_wsgi_app()


@pytest.mark.claim("C-5.2a", "C-5.2b")
def test_schemathesis_finds_no_failures(fuzzed_app, admin):
    headers = auth_headers(session_token(fuzzed_app, admin["email"]))
    # The WSGI transport sends cookies from its own jar, so they go apart.
    cookies = dict(pair.split("=", 1) for pair in headers.pop("Cookie").split("; "))
    statuses = collections.Counter()
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzzed_app)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # Requiring 2FA would lock the admin out of the rest, so it runs last.
    operations.sort(key=lambda operation: operation.path == "/api/v1/admin/organisation")

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case):
            response = case.call(headers=headers, cookies=cookies)
            statuses[response.status_code] += 1
            assert response.status_code < 500, f"{case.method} {case.path}: {response.text}"
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as error:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")

    assert failures == []
    # Signed-in requests reached the views: at least 50 of them returned 200.
    assert statuses[200] >= 50, statuses


def test_document_is_public(app):
    client = webtest.TestApp(app, extra_environ={"wsgi.url_scheme": "https",
                                                 "HTTP_HOST": "promax.test"})

    response = client.get("/api/openapi.json")

    assert response.content_type == "application/json"
