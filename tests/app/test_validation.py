"""The central validation layer: rule kinds, typed errors and unreadable bodies."""

import datetime
import uuid

import pytest
from support.gate import auth_headers, session_token

from promax.validation import (
    RequestRejected,
    StrictSchema,
    ValidationFailed,
    load,
    read_json_body,
    rules,
)


class Everything(StrictSchema):
    name = rules.string(min_length=2, max_length=5, required=True)
    email = rules.email()
    count = rules.integer(minimum=1, maximum=10)
    colour = rules.one_of(["red", "green"])
    code = rules.regex(r"^[A-Z]{3}$")
    token = rules.uuid()
    object_id = rules.hex_id()
    day = rules.date()
    enabled = rules.boolean()
    tags = rules.list_of(rules.string(max_length=3), max_items=2)
    site = rules.url()


VALID = {
    "name": "abc",
    "email": "a@example.com",
    "count": 3,
    "colour": "red",
    "code": "ABC",
    "token": "6f1c1d0e-4a8b-4c8e-9d3b-1a2b3c4d5e6f",
    "object_id": "0123456789abcdef0123456789abcdef",
    "day": "2026-12-04",
    "enabled": True,
    "tags": ["a", "bb"],
    "site": "https://erp.example.com",
}


@pytest.mark.claim("C-5.2a")
def test_valid_input_is_loaded():
    loaded = load(Everything(), VALID)

    assert loaded["token"] == uuid.UUID(VALID["token"])
    assert loaded["day"] == datetime.date(2026, 12, 4)
    assert loaded["count"] == 3


@pytest.mark.claim("C-5.2a", "C-5.2b")
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", None),  # required (null is not a value)
        ("name", "a"),  # string length min
        ("name", "abcdef"),  # string length max
        ("name", 12),  # string type
        ("email", "not-an-email"),  # email
        ("count", "3"),  # integer: no strings
        ("count", 2.5),  # integer: no fractions
        ("count", 0),  # min
        ("count", 11),  # max
        ("colour", "blue"),  # in
        ("code", "abc"),  # regex
        ("token", "not-a-uuid"),  # uuid
        ("object_id", "XYZ"),  # hex id
        ("day", "2026-13-01"),  # date
        ("enabled", "yes"),  # boolean: JSON true/false only
        ("tags", ["a", "b", "c"]),  # list max items
        ("site", "ftp://example.com"),  # url scheme
    ],
)
def test_each_rule_rejects_bad_value(field, value):
    with pytest.raises(ValidationFailed) as raised:
        load(Everything(), {**VALID, field: value})

    assert list(raised.value.fields) == [field]
    assert raised.value.fields[field]


@pytest.mark.claim("C-5.2b")
def test_missing_and_unknown_fields_reported():
    data = {k: v for k, v in VALID.items() if k != "name"}
    data["surprise"] = 1

    with pytest.raises(ValidationFailed) as raised:
        load(Everything(), data)

    assert set(raised.value.fields) == {"name", "surprise"}
    assert raised.value.fields["name"] == ["Missing data for required field."]


def password_headers(app, admin):
    return auth_headers(session_token(app, admin["email"]))


@pytest.mark.claim("C-5.2b")
def test_api_returns_422_per_field(app, browser, admin):
    response = browser.put_json("/api/v1/account/password", {"current_password": 5},
                                headers=password_headers(app, admin), status=422)

    fields = response.json["error"]["fields"]
    assert response.json["error"]["code"] == "validation_failed"
    assert fields["current_password"] == ["Not a valid string."]
    assert fields["new_password"] == ["Missing data for required field."]
    assert response.json["request_id"] == response.headers["X-Request-Id"]


@pytest.mark.claim("C-5.2a")
@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"current_password": "a",', "application/json", 400, "invalid_json"),
        (b'{"require_2fa": true, "require_2fa": false}', "application/json", 400,
         "duplicate_key"),
        (b"[true]", "application/json", 400, "invalid_json"),
        (b'{"require_2fa": NaN}', "application/json", 400, "invalid_json"),
        (b'{"require_2fa": "\xff"}', "application/json", 400, "invalid_encoding"),
        (b"require_2fa=true", "application/x-www-form-urlencoded", 415,
         "unsupported_media_type"),
        (b'{"require_2fa": true}', "text/plain", 415, "unsupported_media_type"),
        (b'{"require_2fa": "' + b"x" * 70_000 + b'"}', "application/json", 413,
         "body_too_large"),
    ],
)
def test_unreadable_bodies_rejected(app, browser, admin, body, content_type, status, code):
    response = browser.patch("/api/v1/admin/organisation", body,
                             headers=password_headers(app, admin), content_type=content_type,
                             status=status)

    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]


def test_unexpected_query_parameter_rejected(app, browser, admin):
    response = browser.get("/api/v1/sessions?limit=5", headers=password_headers(app, admin),
                           status=422)

    assert response.json["error"]["fields"] == {"limit": ["Unknown field."]}


def test_read_json_body_requires_length():
    class Request:
        content_type = "application/json"
        content_length = None

    with pytest.raises(RequestRejected) as raised:
        read_json_body(Request())

    assert raised.value.status == 411
