"""CSRF protection by double-submit cookie.

The token is 32 random bytes as 64 hex characters, kept in a cookie that
the page's JavaScript can read. Every unsafe request (POST, PUT, PATCH,
DELETE) must echo it in the ``csrf_token`` form field or the
``X-CSRF-Token`` header; Pyramid compares the two in constant time. The
check is Pyramid's ``require_csrf`` default, so it applies to every view,
including views added later, without a decorator.
"""

import secrets

from pyramid.interfaces import ICSRFStoragePolicy
from webob.cookies import make_cookie
from zope.interface import implementer

from promax.web.cookies import read_cookie

CSRF_COOKIE = "promax_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
TOKEN_BYTES = 32


def new_csrf_token():
    return secrets.token_hex(TOKEN_BYTES)


@implementer(ICSRFStoragePolicy)
class DoubleSubmitCookieCSRF:
    """Keep the CSRF token in a Secure, SameSite=Lax cookie readable by scripts."""

    def new_csrf_token(self, request):
        token = new_csrf_token()
        request.environ["promax.csrf_token"] = token

        def set_cookie(_request, response):
            response.headerlist.append(
                ("Set-Cookie", make_cookie(CSRF_COOKIE, token, path="/", secure=True,
                                           httponly=False, samesite="lax"))
            )

        request.add_response_callback(set_cookie)
        return token

    def get_csrf_token(self, request):
        token = request.environ.get("promax.csrf_token") or (read_cookie(request, CSRF_COOKIE) or "")
        if len(token) != 2 * TOKEN_BYTES:
            return self.new_csrf_token(request)
        return token

    def check_csrf_token(self, request, supplied_token):
        # A request without the cookie has no expected token: comparing against
        # an empty string would accept an empty submission, so reject it.
        expected = (read_cookie(request, CSRF_COOKIE) or "")
        if len(expected) != 2 * TOKEN_BYTES or not isinstance(supplied_token, str):
            return False
        return secrets.compare_digest(expected.encode(), supplied_token.encode())


def includeme(config):
    config.set_csrf_storage_policy(DoubleSubmitCookieCSRF())
    config.set_default_csrf_options(
        require_csrf=True,
        token=CSRF_FIELD,
        header=CSRF_HEADER,
        # Double-submit needs no origin check to be sound, and the appliance
        # may sit behind a name the app does not know.
        check_origin=False,
    )
