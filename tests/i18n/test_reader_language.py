"""The reader's language: from ?lang=, a form, a cookie or Accept-Language; else the default."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from service.core.i18n import in_language, long_date, money, normalise_language
from tests.conftest import make_test_app


def test_language_tags_are_reduced_to_the_languages_we_have() -> None:
    assert normalise_language("de-AT") == "de"
    assert normalise_language("FR_ca") == "fr"
    assert normalise_language("en") == "en"
    assert normalise_language("es") is None
    assert normalise_language("") is None
    assert normalise_language("x" * 100) is None
    assert normalise_language(None) is None


def test_the_support_page_speaks_the_browsers_language(client: FlaskClient) -> None:
    german = client.get("/support", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    html = german.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Wie möchten Sie spenden?" in html
    assert "Weiter zur sicheren Zahlung" in html
    # Money as German readers write it: the amount first, a comma, the sign after.
    assert "10\u00a0€" in html
    assert "How would you like to give?" not in html

    french = client.get("/support", headers={"Accept-Language": "fr-CA"}).get_data(as_text=True)
    assert '<html lang="fr">' in french
    assert "Comment souhaitez-vous donner ?" in french


def test_an_unknown_language_is_the_default_language(client: FlaskClient) -> None:
    page = client.get("/support?lang=xx", headers={"Accept-Language": "es, pt;q=0.8"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "How would you like to give?" in html


def test_lang_in_the_address_wins_and_is_remembered(client: FlaskClient) -> None:
    page = client.get("/support?lang=fr", headers={"Accept-Language": "de"})
    assert "Comment souhaitez-vous donner ?" in page.get_data(as_text=True)
    assert "rc_lang=fr" in page.headers["Set-Cookie"]
    # The next page (no ?lang=) stays French for this reader.
    after = client.get("/support/manage", headers={"Accept-Language": "de"})
    assert "Déjà donateur ? Gérez vos dons" in after.get_data(as_text=True)


def test_the_default_language_is_a_setting(database_url: str, engine: Engine) -> None:
    del engine  # (the tables)
    app = make_test_app(database_url, default_language="de")
    with app.test_client() as german_by_default:
        html = german_by_default.get("/support").get_data(as_text=True)
    assert "Wie möchten Sie spenden?" in html


def test_form_errors_come_back_in_the_forms_language(client: FlaskClient) -> None:
    page = client.post(
        "/support/checkout",
        data={
            "frequency": "one_off",
            "amount_one_off": "other",
            "custom_amount": "lots",
            "lang": "de",
        },
    )
    assert page.status_code == 422
    assert "Geben Sie einen Betrag ein, zum Beispiel 10 oder 12,50." in page.get_data(as_text=True)


def test_api_errors_readers_see_follow_the_language(client: FlaskClient) -> None:
    answer = client.post(
        "/api/v1/checkout",
        json={"frequency": "monthly", "amount": 1, "currency": "eur"},
        headers={"Accept-Language": "fr"},
    )
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["json"]["amount"] == ["Le don minimum est de 1,00\u00a0€."]


def test_the_widgets_checkout_errors_follow_the_pages_language(client: FlaskClient) -> None:
    answer = client.post(
        "/api/v1/checkout",
        json={"frequency": "monthly", "amount": 1, "currency": "eur", "language": "de"},
        headers={"Accept-Language": "fr"},
    )
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["json"]["amount"] == ["Der Mindestbetrag ist 1,00\u00a0€."]


def test_the_error_page_is_translated(client: FlaskClient) -> None:
    page = client.get("/no-such-page", headers={"Accept-Language": "de"})
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "Seite nicht gefunden" in html
    assert "Diese Seite haben wir nicht gefunden." in html


def test_numbers_dates_and_money_follow_the_language(app: Flask) -> None:
    from datetime import date

    with app.app_context():
        with in_language("de"):
            assert money(123456, "gbp") == "1.234,56\u00a0£"
            assert long_date(date(2026, 3, 3)) == "3. März 2026"
        with in_language("fr"):
            assert money(1000, "eur", whole_units_bare=True) == "10\u00a0€"
            assert long_date(date(2026, 3, 3)) == "3 mars 2026"
        with in_language("en"):
            assert money(1050, "gbp") == "£10.50"
            assert long_date(date(2026, 3, 3)) == "3 March 2026"


def test_outside_a_request_the_default_language_formats(app: Flask) -> None:
    """Jobs and commands (staff reports, emails) have no request: never an error."""
    from service.ledger import display_count

    with app.app_context():
        assert display_count(5432) == "over 5,400"
