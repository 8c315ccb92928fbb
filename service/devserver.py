"""`make run`: check the set-up, migrate, start the demo pieces and serve locally."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from service.settings import INSTANCE_DIR, Settings, SettingsError


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

    from service.db import build_engine

    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        fail(f"cannot reach the database at {engine.url.render_as_string()}: {reason}")
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        fail(str(error))
    if settings.database_url.startswith("sqlite:///") and "DATABASE_URL" not in os.environ:
        check_instance_dir(INSTANCE_DIR)
    check_database(settings.database_url)

    from service.migrations import upgrade_database

    upgrade_database(settings.database_url)

    from service import create_app

    app = create_app()
    base = f"http://{args.host}:{args.port}"
    print(f"Reader contributions service on {base}")
    print(f"  health:        {base}/healthz")
    print(f"  support page:  {base}/support")
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
