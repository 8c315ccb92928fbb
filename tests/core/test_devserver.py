"""`make run`'s start-up checks: one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_devserver(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "DATABASE_"))}
    environ.update({"INSTANCE_PATH": str(tmp_path / "instance"), **env})
    return subprocess.run(
        [sys.executable, "-m", "devserver", "--port", "1"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"DATABASE_URL": "definitely not a url"}, "DATABASE_URL is not a database URL"),
        ({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "cannot reach the database"),
        ({"STRIPE_SECRET_KEY": "sk_live_" + "a" * 24}, "live key"),
    ],
)
def test_bad_set_up_gives_one_line(tmp_path: Path, env: dict[str, str], fragment: str) -> None:
    result = run_devserver(tmp_path, **env)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_instance_dir_gives_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    result = run_devserver(tmp_path, INSTANCE_PATH=str(blocker / "instance"))
    assert result.returncode == 2
    assert "cannot write to" in result.stderr
    assert "Traceback" not in result.stderr
