"""Authentication: the session cookie, the security policy and the sign-in views."""

from promax.auth.policy import SessionSecurityPolicy


def includeme(config):
    settings = config.registry["promax.settings"]
    config.set_security_policy(SessionSecurityPolicy(settings))
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")
    config.scan("promax.auth.views")
