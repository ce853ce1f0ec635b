"""Email addresses: one canonical form for storage and sign-in."""

import unicodedata

from conftest import sign_in

from promax.auth.emails import normalise_email


def test_normalise_email_folds_case_and_space():
    assert normalise_email("  Admin@Acme.Example ") == "admin@acme.example"


def test_normalise_email_composes_unicode():
    composed = "jos\u00e9@acme.example"
    decomposed = unicodedata.normalize("NFD", composed)

    assert decomposed != composed
    assert normalise_email(decomposed) == normalise_email(composed)


def test_decomposed_email_signs_in(browser, promax, organisation):
    password = "a long enough passphrase 42"
    promax("user", "create", "--org", "acme", "--email", "jos\u00e9@acme.example",
           "--role", "manager", "--password-stdin", stdin=password + "\n")

    sign_in(browser, unicodedata.normalize("NFD", "JOS\u00c9@acme.example"), password)

    assert browser.get("/api/v1/overview/sales", status=200).json["totals"]["invoices"] == 0
