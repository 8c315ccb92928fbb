"""`flask worker` in a process of its own, plus a test job kind that stops mid-job once.

The kill -9 test runs this: the real worker command with one extra handler whose first
try writes its effect and then waits (never committing) until the process is killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from flask.cli import FlaskGroup
from sqlalchemy import text

from service import create_app
from service.core.jobs import JobRun, register

EFFECTS_TABLE = "test_job_effects"


def _effect_then_stall(run: JobRun) -> None:
    run.session.execute(
        text(f"INSERT INTO {EFFECTS_TABLE} (job_key) VALUES (:key)"),  # noqa: S608 (a constant)
        {"key": run.key},
    )
    run.session.flush()
    if run.attempt == 1:
        Path(run.payload["started_file"]).write_text("started")
        time.sleep(120)  # killed here


def main(argv: list[str]) -> None:
    register("test.effect_then_stall", _effect_then_stall)
    app = create_app()
    FlaskGroup(create_app=lambda: app).main(["worker", *argv], prog_name="flask")


if __name__ == "__main__":
    main(sys.argv[1:])
