"""Email addresses as ProMax stores and compares them."""

import unicodedata


def normalise_email(value):
    """Return the canonical form of an email address: NFKC, trimmed, lowercase.

    The same address typed as composed or decomposed Unicode (for example
    "é" as one code point or as "e" plus a combining accent) must name one
    account, so both storage and sign-in go through this function.
    """
    return unicodedata.normalize("NFKC", value).strip().lower()
