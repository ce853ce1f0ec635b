"""Cookie access that survives malformed input."""


def read_cookie(request, name):
    """Return a cookie's value, or None when it is absent or not valid UTF-8.

    WebOb decodes the whole Cookie header on first access and raises
    UnicodeDecodeError on bytes that are not UTF-8; a client that sends such
    bytes is treated as having sent no cookie at all.
    """
    try:
        return request.cookies.get(name)
    except UnicodeDecodeError:
        return None
