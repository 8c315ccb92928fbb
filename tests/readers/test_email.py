"""Email through the job outbox: written with its cause, sent once, kept while SMTP is down."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from service.core.dev_mailbox import MailCapture, mailbox_blueprint
from service.core.jobs import Job, JobStatus
from service.core.models import utcnow
from service.readers import MessageStatus, ReaderMessage
from tests.conftest import drain_jobs, make_test_app
from tests.ledger.conftest import pay
from tests.ledger.stripe_events import OURS, body_of, event, new_id, sign, stripe_object
from tests.live import reserve_port
from tests.readers.conftest import MailStack


def _redeliver_everything(stack: MailStack) -> None:
    """Post every event the sandbox ever sent once more, as Stripe may."""
    client: FlaskClient = stack.app.test_client()
    with stack.sandbox.state.lock:
        ids = [record.id for record in stack.sandbox.state.event_records()]
    for event_id in ids:
        body, headers = stack.sandbox.webhooks.signed(event_id)
        assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200


def _messages(stack: MailStack) -> list[ReaderMessage]:
    with stack.session() as session:
        return list(session.scalars(select(ReaderMessage).order_by(ReaderMessage.id)))


def test_a_monthly_gift_gets_a_receipt_per_payment_a_failure_notice_and_a_goodbye_once(
    mail_stack: MailStack,
) -> None:
    sim = mail_stack.sandbox.sim
    donor = pay(mail_stack.sandbox, mail_stack.settings, frequency="monthly", amount=500)
    mail_stack.settle()
    assert donor.subscription_id
    drain_jobs(mail_stack.app)

    (receipt,) = mail_stack.mail_to(donor.email)
    assert receipt.subject == "Thank you for supporting The Harbour Courier: your receipt"
    assert "€5.00 a month" in receipt.text
    assert f"{mail_stack.url}/support/manage" in receipt.links
    assert "€5.00" in receipt.html and "<a href=" in receipt.html

    sim.renew_subscription(donor.subscription_id, "failed")
    mail_stack.settle()
    drain_jobs(mail_stack.app)
    failed = mail_stack.mail_to(donor.email)[-1]
    assert failed.subject == "Your monthly gift to The Harbour Courier didn't go through"
    assert "update your card" in failed.text
    assert f"{mail_stack.url}/support/manage" in failed.links

    sim.cancel_subscription(donor.subscription_id)
    mail_stack.settle()
    drain_jobs(mail_stack.app)
    ended = mail_stack.mail_to(donor.email)[-1]
    assert ended.subject == "Your monthly gift to The Harbour Courier has ended"
    assert f"{mail_stack.url}/support?frequency=monthly" in ended.links

    before = [mail.subject for mail in mail_stack.mailbox.messages()]
    assert len(before) == 3
    # Stripe redelivers every event, and a worker runs again: nothing is sent twice.
    _redeliver_everything(mail_stack)
    drain_jobs(mail_stack.app)
    assert [mail.subject for mail in mail_stack.mailbox.messages()] == before
    assert {m.status for m in _messages(mail_stack)} == {MessageStatus.SENT}


def test_each_paid_renewal_gets_its_own_receipt(mail_stack: MailStack) -> None:
    donor = pay(mail_stack.sandbox, mail_stack.settings, frequency="monthly", amount=700)
    mail_stack.settle()
    assert donor.subscription_id
    mail_stack.sandbox.sim.renew_subscription(donor.subscription_id, "paid")
    mail_stack.settle()
    drain_jobs(mail_stack.app)
    receipts = mail_stack.mail_to(donor.email)
    assert len(receipts) == 2
    assert all("€7.00 a month" in mail.text for mail in receipts)


def test_a_renewal_that_needs_authentication_sends_the_confirmation_link(
    mail_stack: MailStack,
) -> None:
    donor = pay(mail_stack.sandbox, mail_stack.settings, frequency="monthly", amount=500)
    mail_stack.settle()
    assert donor.subscription_id
    invoice_url = "https://invoice.stripe.com/i/acct_test/confirm_me"
    invoice = stripe_object(
        "invoice",
        id=new_id("in_"),
        customer=donor.customer_id,
        hosted_invoice_url=invoice_url,
        parent={
            "type": "subscription_details",
            "subscription_details": {"subscription": donor.subscription_id, "metadata": OURS},
        },
    )
    evt = event("invoice.payment_action_required", invoice)
    payload = body_of(evt)
    client = mail_stack.app.test_client()
    for _ in range(2):  # delivered twice: one message
        response = client.post(
            "/webhooks/stripe",
            data=payload,
            headers={"Stripe-Signature": sign(payload), "Content-Type": "application/json"},
        )
        assert response.status_code == 200
    drain_jobs(mail_stack.app)
    asks = [m for m in mail_stack.mail_to(donor.email) if "confirm" in m.subject]
    assert len(asks) == 1
    assert asks[0].subject == "Please confirm your monthly gift to The Harbour Courier"
    assert invoice_url in asks[0].links


def test_messages_wait_while_smtp_is_down_and_go_out_once_when_it_is_back(
    database_url: str, engine: object, mail_stack: MailStack
) -> None:
    # The same service, pointed at a port where no SMTP server listens yet.
    port = reserve_port()
    down = make_test_app(
        database_url,
        stripe_api_base=mail_stack.sandbox.url,
        public_base_url=mail_stack.url,
        smtp_url=f"smtp://127.0.0.1:{port}?starttls=off",
        smtp_timeout_seconds=2,
    )
    donor = pay(mail_stack.sandbox, mail_stack.settings, amount=1200)
    mail_stack.settle(drain=False)
    # Each event's job, then the notice, then a failed try at sending.
    assert drain_jobs(down) == len(mail_stack.sandbox.events) + 2

    (message,) = _messages(mail_stack)
    assert message.status is MessageStatus.QUEUED
    with mail_stack.session() as session:
        job = session.scalars(select(Job).where(Job.key == f"send:{message.key}")).one()
    assert job.status is JobStatus.FAILED
    assert job.last_error and "Connection refused" in job.last_error
    # Not due again until its backoff has passed.
    assert drain_jobs(down) == 0

    with MailCapture(port=port) as back:
        later = utcnow() + timedelta(hours=2)
        assert drain_jobs(down, clock=lambda: later) == 1
        assert drain_jobs(down, clock=lambda: later) == 0
        (mail,) = back.messages()
    assert mail.to == [donor.email]
    assert "€12.00" in mail.text
    (message,) = _messages(mail_stack)
    assert message.status is MessageStatus.SENT
    assert message.sent_at is not None


def test_the_mailbox_pages_show_what_was_caught(mailbox: MailCapture, database_url: str) -> None:
    app = make_test_app(database_url)
    app.register_blueprint(mailbox_blueprint(mailbox))
    from service.core import mail

    mail.send(
        app.extensions["settings"].with_overrides({"smtp_url": mailbox.smtp_url}),
        mail.Email(
            to="reader@example.com",
            subject="Hello <there>",
            text="Open https://news.example/a?b=1 now.",
            html="<p><b>Hello</b></p>",
            message_id="<one@example.com>",
        ),
    )
    client = app.test_client()
    (caught,) = client.get("/dev/mailbox.json").json
    assert caught == {
        "to": ["reader@example.com"],
        "subject": "Hello <there>",
        "text": "Open https://news.example/a?b=1 now.\n",
        "html": "<p><b>Hello</b></p>\n",
        "links": ["https://news.example/a?b=1"],
    }
    page = client.get("/dev/mailbox")
    assert page.status_code == 200
    assert b"Hello &lt;there&gt;" in page.data
    assert b"sandbox srcdoc=" in page.data


def test_production_has_no_mailbox(client: FlaskClient) -> None:
    # create_app never registers it; only make run (devserver) and tests do.
    assert client.get("/dev/mailbox").status_code == 404
    assert client.get("/dev/mailbox.json").status_code == 404


def test_a_yearly_gift_is_thanked_and_ended_in_years(mail_stack: MailStack) -> None:
    donor = pay(mail_stack.sandbox, mail_stack.settings, frequency="annual", amount=6000)
    mail_stack.settle()
    assert donor.subscription_id
    mail_stack.sandbox.sim.cancel_subscription(donor.subscription_id)
    mail_stack.settle()
    drain_jobs(mail_stack.app)
    receipt, ended = mail_stack.mail_to(donor.email)
    assert "€60.00 a year" in receipt.text
    assert "yearly gift" in receipt.text
    assert ended.subject == "Your yearly gift to The Harbour Courier has ended"
    assert f"{mail_stack.url}/support?frequency=annual" in ended.links
