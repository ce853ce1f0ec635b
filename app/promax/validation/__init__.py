"""Input validation for the JSON API, built on marshmallow schemas.

Views declare schemas in ``view_config`` (``body_schema``, ``query_schema``,
``response_schema``). The view deriver in promax.validation.deriver checks
every request against them before the view runs and puts the result in
``request.validated``. The OpenAPI document is generated from the same
schemas, so the documentation and the checks cannot drift apart.

Failures raise one of two typed errors, which the error views turn into
JSON: ``RequestRejected`` for a body that cannot be read at all (400, 411,
413, 415) and ``ValidationFailed`` for a readable body or query whose
values break a rule (422, with a list of messages per field).
"""

import json

from marshmallow import RAISE, Schema, fields, validate
from marshmallow import ValidationError as MarshmallowError

MAX_JSON_BYTES = 64 * 1024
JSON_TYPES = ("application/json",)


class RequestRejected(Exception):
    """A request body that cannot be parsed: malformed, too large or of the wrong type."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ValidationFailed(Exception):
    """Input that parsed but broke rules; ``fields`` maps each field to its messages."""

    status = 422

    def __init__(self, fields_, location="body"):
        super().__init__(f"invalid {location}: {', '.join(sorted(fields_))}")
        self.fields = fields_
        self.location = location


class FullMatch(validate.Regexp):
    """A regular expression that must match the whole value.

    ``re.match`` lets ``$`` match before a final newline, which JSON Schema's
    ``pattern`` does not, so the OpenAPI document and the check would differ.
    """

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise MarshmallowError(self._format_error(value))
        return value


class StrictBoolean(fields.Boolean):
    """A boolean that accepts only JSON true and false, not "yes" or 1."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Rules:
    """Field constructors for the rule kinds the app uses.

    Each returns a marshmallow field; ``required=True`` makes a field
    mandatory. The kinds: required, string, email, integer, min, max, in,
    regex, uuid, hex id, date, boolean, list and URL.
    """

    @staticmethod
    def string(min_length=None, max_length=None, required=False, **kwargs):
        return fields.String(
            required=required,
            validate=validate.Length(min=min_length, max=max_length),
            **kwargs,
        )

    @staticmethod
    def email(required=False, **kwargs):
        return fields.Email(required=required, validate=validate.Length(max=254), **kwargs)

    @staticmethod
    def integer(minimum=None, maximum=None, required=False, strict=True, **kwargs):
        return fields.Integer(
            required=required,
            strict=strict,
            validate=validate.Range(min=minimum, max=maximum),
            **kwargs,
        )

    @staticmethod
    def one_of(choices, required=False, **kwargs):
        return fields.String(required=required, validate=validate.OneOf(list(choices)), **kwargs)

    @staticmethod
    def regex(pattern, max_length=None, required=False, error=None, **kwargs):
        validators = [FullMatch(pattern, error=error or "Does not match the expected format.")]
        if max_length is not None:
            validators.insert(0, validate.Length(max=max_length))
        return fields.String(required=required, validate=validators, **kwargs)

    @staticmethod
    def uuid(required=False, **kwargs):
        return fields.UUID(required=required, **kwargs)

    @staticmethod
    def hex_id(required=False, **kwargs):
        """An id made by promax.models.control.new_id: 32 lowercase hex characters."""
        return Rules.regex(r"^[0-9a-f]{32}$", required=required,
                           error="Must be 32 lowercase hexadecimal characters.", **kwargs)

    @staticmethod
    def date(required=False, **kwargs):
        return fields.Date(required=required, **kwargs)

    @staticmethod
    def boolean(required=False, **kwargs):
        return StrictBoolean(required=required, **kwargs)

    @staticmethod
    def list_of(field, max_items=None, required=False, **kwargs):
        return fields.List(field, required=required, validate=validate.Length(max=max_items),
                           **kwargs)

    @staticmethod
    def nested(schema, required=False, **kwargs):
        return fields.Nested(schema, required=required, **kwargs)

    @staticmethod
    def url(required=False, **kwargs):
        return fields.URL(required=required, schemes={"https", "http"},
                          validate=validate.Length(max=2000), **kwargs)


rules = Rules()


class StrictSchema(Schema):
    """A schema that rejects fields it does not declare."""

    class Meta:
        unknown = RAISE


def _reject_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise RequestRejected(400, "duplicate_key",
                                  f"The JSON body contains the key {key!r} more than once.")
        result[key] = value
    return result


def _reject_constant(name):
    raise RequestRejected(400, "invalid_json", f"The JSON body contains {name}, which JSON "
                          "does not allow.")


def read_json_body(request, max_bytes=MAX_JSON_BYTES):
    """Return a request's JSON object body; raise RequestRejected when it cannot be read."""
    if request.content_type not in JSON_TYPES:
        raise RequestRejected(415, "unsupported_media_type",
                              f"Send the body as application/json, not "
                              f"{request.content_type or 'no content type'}.")
    length = request.content_length
    if length is None:
        raise RequestRejected(411, "length_required",
                              "The request needs a Content-Length header.")
    if length > max_bytes:
        raise RequestRejected(413, "body_too_large",
                              f"The body is {length} bytes; at most {max_bytes} are accepted.")
    raw = request.body
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejected(400, "invalid_encoding", "The JSON body is not valid UTF-8.") from None
    try:
        body = json.loads(text, object_pairs_hook=_reject_duplicates,
                          parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise RequestRejected(400, "invalid_json",
                              f"The body is not valid JSON: {error.msg} at line {error.lineno} "
                              f"column {error.colno}.") from None
    if not isinstance(body, dict):
        raise RequestRejected(400, "invalid_json", "The JSON body must be an object.")
    return body


def load(schema, data, location="body"):
    """Validate data against a schema instance; return the loaded values.

    Raises ValidationFailed with the messages of every failing field.
    """
    try:
        return schema.load(data)
    except MarshmallowError as error:
        raise ValidationFailed(_flatten(error.messages), location) from None


def query_values(request):
    """Return the query string as a dict; a repeated name maps to a list of its values."""
    return request.GET.mixed()


def _flatten(messages, prefix=""):
    """Turn marshmallow's nested messages into {"field.sub": ["message", ...]}."""
    flat = {}
    if isinstance(messages, list):
        return {prefix or "_schema": [str(m) for m in messages]}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, name))
        else:
            flat[name] = [str(m) for m in value]
    return flat
