"""The OpenAPI 3.0 document of the JSON API, served at ``/api/openapi.json``.

The document is built from Pyramid's view registrations: every view of a
route named ``api.*`` becomes an operation, and its ``body_schema``,
``query_schema`` and ``response_schema`` options (the schemas that
promax.validation checks requests against) become its request body,
parameters and 200 response.
"""

import re

from marshmallow import fields, validate
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from promax.validation import StrictBoolean

API_VERSION = "1"
ROUTE_PARAMETER = re.compile(r"\{(\w+)(?::([^{}]*(?:\{[^{}]*\}[^{}]*)*))?\}")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "request_id": {"type": "string", "nullable": True},
    },
}


def field_schema(field):
    """Return the JSON Schema of one marshmallow field, with its validators."""
    if isinstance(field, fields.Nested):
        schema = schema_of(field.schema)
    elif isinstance(field, fields.List):
        schema = {"type": "array", "items": field_schema(field.inner)}
    elif isinstance(field, fields.Dict):
        schema = {"type": "object"}
        if field.value_field is not None:
            schema["additionalProperties"] = field_schema(field.value_field)
    elif isinstance(field, (StrictBoolean, fields.Boolean)):
        schema = {"type": "boolean"}
    elif isinstance(field, fields.Integer):
        schema = {"type": "integer"}
    elif isinstance(field, fields.Number):
        schema = {"type": "number"}
    elif isinstance(field, fields.Email):
        schema = {"type": "string", "format": "email"}
    elif isinstance(field, fields.URL):
        schema = {"type": "string", "format": "uri"}
    elif isinstance(field, fields.UUID):
        schema = {"type": "string", "format": "uuid"}
    elif isinstance(field, fields.Date):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, fields.DateTime):
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = {"type": "string"}

    for validator in field.validators:
        _apply_validator(schema, validator)
    if field.allow_none:
        schema["nullable"] = True
    description = field.metadata.get("description")
    if description:
        schema["description"] = description
    return schema


def _apply_validator(schema, validator):
    is_array = schema.get("type") == "array"
    if isinstance(validator, validate.Length):
        low, high = ("minItems", "maxItems") if is_array else ("minLength", "maxLength")
        if validator.min is not None:
            schema[low] = validator.min
        if validator.max is not None:
            schema[high] = validator.max
    elif isinstance(validator, validate.Range):
        if validator.min is not None:
            schema["minimum"] = validator.min
        if validator.max is not None:
            schema["maximum"] = validator.max
    elif isinstance(validator, validate.OneOf):
        schema["enum"] = list(validator.choices)
    elif isinstance(validator, validate.Regexp):
        schema["pattern"] = validator.regex.pattern


def schema_of(schema_class_or_instance):
    """Return the JSON Schema object of a marshmallow schema."""
    schema = schema_class_or_instance
    if isinstance(schema, type):
        schema = schema()
    properties = {}
    required = []
    for name, field in schema.fields.items():
        key = field.data_key or name
        properties[key] = field_schema(field)
        if field.required:
            required.append(key)
    result = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        result["required"] = required
    return result


def _path_and_parameters(pattern):
    """Turn a route pattern into an OpenAPI path and its path parameters."""
    parameters = []

    def replace(match):
        name, regex = match.group(1), match.group(2)
        schema = {"type": "string"}
        if regex:
            schema["pattern"] = f"^{regex}$"
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return ROUTE_PARAMETER.sub(replace, pattern), parameters


def _query_parameters(schema_class):
    parameters = []
    for name, field in schema_class().fields.items():
        parameters.append({
            "name": field.data_key or name,
            "in": "query",
            "required": bool(field.required),
            "schema": field_schema(field),
        })
    return parameters


def view_permission(introspector, view):
    """Return the permission a view declared, or None when it declared none."""
    for related in introspector.related(view):
        if related.category_name == "permissions":
            return related["value"]
    return None


def api_views(registry):
    """Yield (route, view introspectable) for every view of an ``api.*`` route."""
    introspector = registry.introspector
    routes = {}
    for entry in introspector.get_category("routes") or ():
        routes[entry["introspectable"]["name"]] = entry["introspectable"]
    for entry in introspector.get_category("views") or ():
        view = entry["introspectable"]
        route = routes.get(view["route_name"])
        if route is not None and route["name"].startswith("api."):
            yield route, view


def build_document(registry):
    """Return the OpenAPI document of every ``api.*`` view in the registry."""
    paths = {}
    for route, view in api_views(registry):
        path, path_parameters = _path_and_parameters(route["pattern"])
        methods = view["request_methods"] or ("GET",)
        methods = (methods,) if isinstance(methods, str) else methods
        for method in methods:
            if method == "HEAD":
                continue
            permission = view_permission(registry.introspector, view)
            operation = _operation(route, view, permission, method, path_parameters)
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ProMax API",
            "version": API_VERSION,
            "description": "JSON API of the ProMax appliance. Every operation except this "
                           "document needs the session cookie set by signing in, and "
                           "unsafe methods need the X-CSRF-Token header.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "promax_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }


def _operation(route, view, permission, method, path_parameters):
    callable_ = view["callable"]
    summary = (getattr(callable_, "__doc__", None) or route["name"]).strip().splitlines()[0]
    operation = {
        "operationId": f"{route['name']}.{method.lower()}",
        "summary": summary,
        "x-permission": None if permission is NO_PERMISSION_REQUIRED else permission,
        "parameters": list(path_parameters),
        "responses": {
            "default": {
                "description": "An error: 4xx for a request the app rejected, 5xx for a fault.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    if permission is not NO_PERMISSION_REQUIRED:
        security = [{"session": []}]
        if method not in ("GET", "HEAD", "OPTIONS"):
            security = [{"session": [], "csrf": []}]
        operation["security"] = security
    else:
        operation["security"] = []

    query_schema = view.get("query_schema")
    if query_schema is not None:
        operation["parameters"].extend(_query_parameters(query_schema))
    body_schema = view.get("body_schema")
    if body_schema is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema_of(body_schema)}},
        }
    response_schema = view.get("response_schema")
    success = {"description": "Success."}
    if response_schema is not None:
        success["content"] = {"application/json": {"schema": schema_of(response_schema)}}
    operation["responses"]["200"] = success
    return operation


@view_config(route_name="api.openapi", request_method="GET", renderer="json",
             permission=NO_PERMISSION_REQUIRED)
def openapi_document(request):
    """The OpenAPI document of this API."""
    registry = request.registry
    if "promax.openapi" not in registry:
        registry["promax.openapi"] = build_document(registry)
    return registry["promax.openapi"]


def includeme(config):
    config.add_route("api.openapi", "/api/openapi.json")
    config.scan("promax.openapi")
