"""`make run`: check the set-up, migrate, start the demo pieces and serve locally.

Settings come from the environment, then from .env for what the environment leaves unset
(loaded when service.core.settings is imported). Without STRIPE_SECRET_KEY it serves the
Stripe sandbox (a test double of Stripe) on 127.0.0.1:12111 from this process, points the
service at it, registers /webhooks/stripe there as production does (`stripe-webhook
register`: the pinned API version, the events the service handles) and verifies with the
secret that gives; a STRIPE_WEBHOOK_SECRET you set is accepted too, so you can sign your
own test events. It seeds the demo campaign. With a key it talks to Stripe. One job
worker thread runs inside the process (production runs `flask --app service worker`).
Without SMTP_URL a local SMTP capture catches the email, shown at /dev/mailbox.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from typing import Any

from service.core.settings import INSTANCE_DIR, Settings, SettingsError

SANDBOX_PORT = 12111
MAIL_CAPTURE_PORT = 8025
# Not a secret: only the local sandbox accepts it, and it moves no money.
SANDBOX_SECRET_KEY = "sk_test_sandbox_local_development"  # noqa: S105


def fail(message: str) -> None:
    """Stop with one clear line and a non-zero exit, never a traceback."""
    print(f"make run: {message}", file=sys.stderr)
    raise SystemExit(2)


def check_instance_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        fail(f"cannot write to {path} ({error.strerror}); fix its permissions or set DATABASE_URL")


def check_database(url: str) -> None:
    from sqlalchemy import text

    from service.core.db import build_engine

    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        fail(f"cannot reach the database at {engine.url.render_as_string()}: {reason}")
    finally:
        engine.dispose()


def port_is_free(host: str, port: int) -> bool:
    """Return True when we could serve on host:port, as werkzeug will bind it."""
    with socket.socket() as sock:
        # Werkzeug binds with SO_REUSEADDR, so a port held only by a previous run's
        # connections in TIME_WAIT is free for it; only a listener makes it busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def use_sandbox_environment(host: str, port: int, sandbox_port: int) -> bool:
    """Point the service at a local Stripe sandbox; True when a webhook secret was set."""
    os.environ["STRIPE_API_BASE"] = f"http://127.0.0.1:{sandbox_port}"
    os.environ["STRIPE_SECRET_KEY"] = SANDBOX_SECRET_KEY
    if not os.environ.setdefault("PUBLIC_BASE_URL", "").strip():
        os.environ["PUBLIC_BASE_URL"] = f"http://{host}:{port}"
    return bool(os.environ.get("STRIPE_WEBHOOK_SECRET", "").strip())


def start_sandbox(sandbox_port: int) -> Any:
    """Serve the Stripe sandbox (a test double of Stripe) from this process."""
    from stripe_sandbox import SandboxServer

    sandbox = SandboxServer(
        port=sandbox_port,
        api_key=SANDBOX_SECRET_KEY,
        # Stripe shows the account's name on Checkout; ours is the publication's.
        account_name=os.environ.get("PUBLICATION_NAME") or "The Harbour Courier",
        # Stripe-like retry pacing; the test defaults retry much faster.
        webhook_max_attempts=6,
        webhook_backoff=1.0,
        webhook_backoff_max=60.0,
        webhook_timeout=10.0,
    )
    return sandbox.start()


def register_sandbox_webhook(settings: Settings, base: str) -> None:
    """Register /webhooks/stripe at the sandbox as an operator does at Stripe, and have
    the service verify with the secret that gives (besides any the developer set)."""
    from service.ledger import RegistrationRefused, register_webhook_endpoint
    from service.stripe_gateway import GatewayError

    try:
        registration = register_webhook_endpoint(settings, f"{base}/webhooks/stripe")
    except (RegistrationRefused, GatewayError) as error:
        fail(f"could not register the webhook endpoint at the sandbox: {error}")
    secret = registration.endpoint.secret or ""
    kept = [s.strip() for s in os.environ.get("STRIPE_WEBHOOK_SECRET", "").split(",")]
    os.environ["STRIPE_WEBHOOK_SECRET"] = ",".join([secret, *(s for s in kept if s)])


def start_mail_capture(port: int) -> Any:
    """Catch the service's email locally (aiosmtpd) and point SMTP_URL at it."""
    from service.core.dev_mailbox import MailCapture

    capture = MailCapture(port=port).start()
    os.environ["SMTP_URL"] = capture.smtp_url
    return capture


def seed_demo_data(app: Any) -> bool:
    """Create the demo campaign if the demo module is there; True when it was seeded."""
    try:
        from service.appeals import seed_demo
    except ImportError:
        return False
    from service.core.extensions import db

    with app.app_context(), db.unit_of_work() as session:
        seed_demo(session)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--sandbox-port",
        type=int,
        default=int(os.environ.get("STRIPE_SANDBOX_PORT", str(SANDBOX_PORT))),
        help="where the Stripe sandbox listens when STRIPE_SECRET_KEY is not set",
    )
    parser.add_argument(
        "--mail-port",
        type=int,
        default=int(os.environ.get("MAIL_CAPTURE_PORT", str(MAIL_CAPTURE_PORT))),
        help="where the local SMTP capture listens when SMTP_URL is not set",
    )
    args = parser.parse_args(argv)
    base = f"http://{args.host}:{args.port}"

    sandboxed = not os.environ.get("STRIPE_SECRET_KEY", "").strip()
    kept_webhook_secret = False
    if sandboxed:
        kept_webhook_secret = use_sandbox_environment(args.host, args.port, args.sandbox_port)
    elif not os.environ.get("PUBLIC_BASE_URL", "").strip():
        os.environ["PUBLIC_BASE_URL"] = base

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        fail(str(error))
    if settings.database_url.startswith("sqlite:///") and not os.environ.get("DATABASE_URL"):
        check_instance_dir(INSTANCE_DIR)
    check_database(settings.database_url)
    if not port_is_free(args.host, args.port):
        fail(f"port {args.port} is in use; try PORT=5001 make run")
    if sandboxed and not port_is_free("127.0.0.1", args.sandbox_port):
        fail(
            f"the Stripe sandbox's port {args.sandbox_port} is in use (another make run?); "
            "set STRIPE_SANDBOX_PORT to another port"
        )

    capturing = not os.environ.get("SMTP_URL", "").strip()
    if capturing and not port_is_free("127.0.0.1", args.mail_port):
        fail(
            f"the mail capture's port {args.mail_port} is in use (another make run?); "
            "set MAIL_CAPTURE_PORT to another port"
        )

    from service.core.migrations import upgrade_database

    upgrade_database(settings.database_url)

    from service import create_app
    from service.core.jobs import WorkerPool

    capture = start_mail_capture(args.mail_port) if capturing else None
    sandbox = start_sandbox(args.sandbox_port) if sandboxed else None
    if sandbox is not None:
        register_sandbox_webhook(settings, base)
    app = create_app()
    if capture is not None:
        from service.core.dev_mailbox import mailbox_blueprint

        app.register_blueprint(mailbox_blueprint(capture))
    seeded = seed_demo_data(app) if sandboxed else False
    # After seeding, so the two never contend for SQLite's one writer; one thread is all
    # that allows, and plenty for development.
    workers = WorkerPool(app, threads=1).start()

    print(f"Reader contributions service on {base}")
    print(f"  health:        {base}/healthz")
    print(f"  support page:  {base}/support")
    if seeded or "demo" in app.blueprints:
        print(f"  demo article:  {base}/demo/article")
    print(
        f"  staff:         {base}/staff  (add a user: .venv/bin/flask --app service "
        "create-staff you@example.com --role admin)"
    )
    print(f"  API document:  {base}/api/openapi.json")
    print(f"  job worker:    1 thread in this process; jobs at {base}/staff/jobs")
    if capture is not None:
        print(f"  mailbox:       {base}/dev/mailbox  (email caught on {capture.smtp_url})")
    else:
        print("  email:         sent through your SMTP_URL")
    if sandbox is not None:
        print(f"Stripe sandbox (a test double, NOT Stripe; no money moves) on {sandbox.url}")
        print(f"  dashboard:     {sandbox.url}/_sandbox")
        print(f"  webhooks to:   {base}/webhooks/stripe (registered: stripe-webhook register)")
        if kept_webhook_secret:
            print("  signed with:   that endpoint's own fresh secret; STRIPE_WEBHOOK_SECRET")
            print("                 from your environment or .env (kept) is accepted too")
        else:
            print("  signed with:   that endpoint's own fresh secret (set STRIPE_WEBHOOK_SECRET")
            print("                 to also accept one you know, for your own test events)")
        print("  test cards:    4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined,")
        print("                 4000 0025 0000 3155 asks for authentication")
    else:
        print(f"Stripe: {settings.stripe_mode} mode with your STRIPE_SECRET_KEY")
        print("  forward Stripe's webhooks here with the Stripe CLI:")
        print(f"    stripe listen --forward-to {base}/webhooks/stripe")
        if not settings.stripe_webhook_secrets:
            print("  then put the whsec_... it prints into STRIPE_WEBHOOK_SECRET and restart")
    sys.stdout.flush()
    try:
        app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    finally:
        workers.shutdown(timeout=30)
        if capture is not None:
            capture.stop()
        if sandbox is not None:
            sandbox.stop()


if __name__ == "__main__":
    main()
