"""Emails are written in the language the reader gave or signed in in."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from service.ledger import Supporter
from tests.conftest import drain_jobs
from tests.readers.conftest import MailStack

CARD = "4242424242424242"


def _give(client: FlaskClient, stack: MailStack, email: str, **body: object) -> str:
    answer = client.post("/api/v1/checkout", json=body)
    assert answer.status_code == 201, answer.get_json()
    session_id = str(answer.get_json()["session_id"])
    result = stack.sandbox.sim.complete_checkout(session_id, CARD, email=email)
    assert result.status == "succeeded"
    stack.settle()
    drain_jobs(stack.app)
    return session_id


def test_a_reader_who_gives_in_german_gets_a_german_receipt(mail_stack: MailStack) -> None:
    client = mail_stack.app.test_client()
    email = "leserin@example.com"
    session_id = _give(
        client, mail_stack, email, frequency="annual", amount=6000, currency="eur", language="de"
    )
    # Stripe's own page is asked for in German too.
    assert mail_stack.sandbox.state.get(session_id)["locale"] == "de"

    (receipt,) = mail_stack.mail_to(email)
    assert receipt.subject == "Danke, dass Sie The Harbour Courier unterstützen: Ihre Quittung"
    assert "Vielen Dank. Ihre jährliche Spende hält unsere Berichterstattung" in receipt.text
    assert "Betrag: 60,00\u00a0€ im Jahr" in receipt.text
    assert "Ihre Spenden ansehen und verwalten" in receipt.html
    assert 'lang="de"' in receipt.html
    with mail_stack.session() as session:
        supporter = session.scalars(select(Supporter).where(Supporter.email == email)).one()
        assert supporter.language == "de"

    # Asking for a sign-in link from a French page: that link, and what follows, in French.
    asked = client.post(
        "/api/v1/readers/sign-in-link", json={"email": email}, headers={"Accept-Language": "fr"}
    )
    assert asked.status_code == 202
    assert asked.get_json()["message"].startswith("Si nous avons reçu un don de cette adresse")
    drain_jobs(mail_stack.app)
    mail_stack.settle()
    sign_in = mail_stack.mail_to(email)[-1]
    assert sign_in.subject == "Votre lien de connexion à The Harbour Courier"
    assert "Il fonctionne une seule fois, pendant une heure" in sign_in.text


def test_without_a_language_the_default_language_writes(mail_stack: MailStack) -> None:
    client = mail_stack.app.test_client()
    email = "reader-en@example.com"
    _give(client, mail_stack, email, frequency="one_off", amount=1250, currency="eur")
    (receipt,) = mail_stack.mail_to(email)
    assert receipt.subject == "Thank you for supporting The Harbour Courier: your receipt"
    assert "Amount: €12.50" in receipt.text
