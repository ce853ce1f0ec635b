"""A small User-Agent parser for the session list: device type and browser name.

It recognises the common browsers and platforms by substring, in the order
that matters (Edge and Opera also claim to be Chrome, Chrome also claims to
be Safari). An unrecognised string gives ("unknown", "unknown"); the result
is for display only and never used for a security decision.
"""

import re

BOT = re.compile(r"bot\b|crawler|spider|slurp|curl/|wget/|python-requests|httpclient|headless",
                 re.IGNORECASE)
TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|android(?!.*mobile)", re.IGNORECASE)
MOBILE = re.compile(r"mobi|iphone|ipod|android.*mobile|windows phone|blackberry", re.IGNORECASE)
DESKTOP = re.compile(r"windows nt|macintosh|mac os x|x11|linux|cros", re.IGNORECASE)

# (browser name, pattern); the first match wins.
BROWSERS = (
    ("Edge", re.compile(r"edg(e|a|ios)?/", re.IGNORECASE)),
    ("Opera", re.compile(r"opr/|opera", re.IGNORECASE)),
    ("Samsung Internet", re.compile(r"samsungbrowser/", re.IGNORECASE)),
    ("Firefox", re.compile(r"firefox/|fxios/", re.IGNORECASE)),
    ("Chrome", re.compile(r"chrome/|crios/|chromium/", re.IGNORECASE)),
    ("Safari", re.compile(r"safari/", re.IGNORECASE)),
    ("curl", re.compile(r"curl/", re.IGNORECASE)),
)


def parse_user_agent(user_agent):
    """Return (device type, browser name) for a User-Agent header value."""
    text = (user_agent or "")[:400]
    if BOT.search(text):
        device = "bot"
    elif TABLET.search(text):
        device = "tablet"
    elif MOBILE.search(text):
        device = "mobile"
    elif DESKTOP.search(text):
        device = "desktop"
    else:
        device = "unknown"

    browser = next((name for name, pattern in BROWSERS if pattern.search(text)), "unknown")
    return device, browser
