"""``python -m stripe_sandbox``: serve the sandbox until interrupted."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from werkzeug.serving import make_server

from .app import create_app
from .config import DEFAULT_API_KEY, SandboxConfig


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m stripe_sandbox",
        description="Stripe sandbox: a test double of Stripe for development. It is not Stripe.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--public-url", help="base URL of hosted pages (default: http://HOST:PORT)")
    parser.add_argument("--webhook-url", help="where to POST events")
    parser.add_argument("--webhook-secret", help="signing secret (whsec_...)")
    parser.add_argument(
        "--no-deliver", action="store_true", help="record events without delivering them"
    )
    parser.add_argument("--webhook-max-attempts", type=int, default=6)
    parser.add_argument(
        "--webhook-backoff", type=float, default=1.0, help="seconds before the first retry"
    )
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="the only sk_test_ key accepted")
    parser.add_argument("--account-name", default="Sandbox News", help="name on hosted pages")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C."""
    args = parse_args(argv)
    try:
        config = SandboxConfig(
            public_url=args.public_url or f"http://{args.host}:{args.port}",
            webhook_url=args.webhook_url,
            webhook_secret=args.webhook_secret,
            deliver_webhooks=not args.no_deliver,
            webhook_max_attempts=args.webhook_max_attempts,
            webhook_backoff=args.webhook_backoff,
            api_key=args.api_key,
            account_name=args.account_name,
        )
    except ValueError as error:
        print(f"stripe_sandbox: {error}", file=sys.stderr)
        return 2
    app = create_app(config)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"Stripe sandbox (a test double, not Stripe) on {config.public_url}", flush=True)
    print(f"  API base:  {config.public_url}  (stripe.StripeClient base_addresses['api'])")
    print(f"  Controls:  {config.public_url}/_sandbox")
    print(f"  Webhooks:  {config.webhook_url or 'none (events are only recorded)'}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["stripe_sandbox"].webhooks.stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
