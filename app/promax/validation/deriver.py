"""A view deriver that validates each API request before its view runs.

It sits inside Pyramid's permission and CSRF checks, so an anonymous or
forged request is refused before its body is read. View options:

- ``body_schema``: a StrictSchema class for the JSON body.
- ``query_schema``: a StrictSchema class for the query string. A view under
  an ``api.`` route without one accepts no query parameters at all.
- ``response_schema``: documents the 200 response in OpenAPI; not checked.
"""

from promax.validation import StrictSchema, load, query_values, read_json_body


class NoQuery(StrictSchema):
    """No query parameters."""


def validate_view(view, info):
    body_schema = info.options.get("body_schema")
    query_schema = info.options.get("query_schema")
    if query_schema is None and str(info.options.get("route_name") or "").startswith("api."):
        query_schema = NoQuery
    if body_schema is None and query_schema is None:
        return view

    body = body_schema() if body_schema else None
    query = query_schema() if query_schema else None

    def validating_view(context, request):
        validated = {}
        if query is not None:
            validated["query"] = load(query, query_values(request), "query")
        if body is not None:
            validated["body"] = load(body, read_json_body(request), "body")
        request.validated = validated
        return view(context, request)

    return validating_view


validate_view.options = ("body_schema", "query_schema", "response_schema")


def includeme(config):
    config.add_view_deriver(validate_view)
