"""`make run`'s set-up: one clear line on a bad start, the webhook secret, free ports,
.env for every entry point (the environment winning), and make's two install stamps."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from service.core.settings import env_file
from tests.ledger.stripe_events import body_of, event, sign, stripe_object
from tests.live import reserve_port

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


# ------------------------------------------------------------------ a real start-up


def start_devserver(tmp_path: Path, port: int, **env: str) -> subprocess.Popen[str]:
    """Start `make run`'s server for real; stopped by the caller."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "DATABASE_"))}
    environ.update(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "PYTHONUNBUFFERED": "1",
            # A port of its own for the mail capture: 8025 may be taken by a `make run`.
            "MAIL_CAPTURE_PORT": str(reserve_port()),
            **env,
        }
    )
    sandbox_port = str(reserve_port())
    return subprocess.Popen(
        [sys.executable, "-m", "devserver", "--port", str(port), "--sandbox-port", sandbox_port],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def banner(process: subprocess.Popen[str]) -> str:
    """What the server printed up to its last start-up line (the test cards)."""
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if "asks for authentication" in line:
            return "".join(lines)
    assert process.stderr is not None
    raise AssertionError("".join(lines) + process.stderr.read())


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.communicate(timeout=30)


def wait_until_serving(port: int) -> None:
    """The banner comes just before the server binds: wait for it to accept."""
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def post_signed_event(port: int, secret: str) -> int:
    wait_until_serving(port)
    payload = body_of(event("customer.created", stripe_object("customer")))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": sign(payload, secret), "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status: int = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status


def test_make_run_keeps_a_webhook_secret_set_in_the_environment(tmp_path: Path) -> None:
    secret = "whsec_" + "k" * 32
    port = reserve_port()
    process = start_devserver(tmp_path, port, STRIPE_WEBHOOK_SECRET=f"{secret},whsec_old")
    try:
        printed = banner(process)
        assert "from your environment or .env (kept) is accepted too" in printed
        assert secret not in printed
        # A developer can sign a test event with the secret they set.
        assert post_signed_event(port, secret) == 200
    finally:
        stop(process)


def test_make_run_makes_a_fresh_webhook_secret_otherwise(tmp_path: Path) -> None:
    port = reserve_port()
    process = start_devserver(tmp_path, port)
    try:
        printed = banner(process)
        assert "(registered: stripe-webhook register)" in printed
        assert "that endpoint's own fresh secret (set STRIPE_WEBHOOK_SECRET" in printed
        assert post_signed_event(port, "whsec_" + "k" * 32) == 400
    finally:
        stop(process)


def time_wait_port() -> int:
    """A port whose only trace is a closed connection in TIME_WAIT (as after a run)."""
    with socket.socket() as listener:
        # As werkzeug's server does; its connections inherit the option.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port: int = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the side that closes first holds TIME_WAIT on our port
        client.close()
    with socket.socket() as probe, pytest.raises(OSError):
        probe.bind(("127.0.0.1", port))  # a plain bind (the old check) says "in use"
    return port


def test_a_port_held_only_by_time_wait_is_served(tmp_path: Path) -> None:
    port = time_wait_port()
    process = start_devserver(tmp_path, port)
    try:
        assert f"Reader contributions service on http://127.0.0.1:{port}" in banner(process)
        wait_until_serving(port)
    finally:
        stop(process)


def test_a_port_something_listens_on_is_refused(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "devserver", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "INSTANCE_PATH": str(tmp_path / "instance")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert f"port {port} is in use" in result.stderr


# ----------------------------------------------------------------------------- .env


def test_tests_never_read_a_developers_env_file() -> None:
    assert env_file() == Path(os.devnull)
    assert os.environ["FLASK_SKIP_DOTENV"] == "1"


def test_make_run_reads_the_env_file_and_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / "settings.env"
    dotenv.write_text("DATABASE_URL=definitely not a url\n")
    result = run_devserver(tmp_path, ENV_FILE=str(dotenv))
    assert result.returncode == 2
    assert "DATABASE_URL is not a database URL" in result.stderr
    result = run_devserver(
        tmp_path, ENV_FILE=str(dotenv), DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"
    )
    assert result.returncode == 2
    assert "cannot reach the database" in result.stderr


def test_the_flask_command_reads_the_env_file_and_the_environment_wins(tmp_path: Path) -> None:
    from_file, from_env = tmp_path / "from-file.db", tmp_path / "from-env.db"
    dotenv = tmp_path / "settings.env"
    dotenv.write_text(f"DATABASE_URL=sqlite:///{from_file}\nINSTANCE_PATH={tmp_path}\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}

    def upgrade(**env: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "service", "db", "upgrade"],
            cwd=ROOT,
            env={**environ, "ENV_FILE": str(dotenv), **env},
            capture_output=True,
            timeout=120,
            check=True,
        )

    upgrade()
    assert from_file.exists()
    upgrade(DATABASE_URL=f"sqlite:///{from_env}")
    assert from_env.exists()


def test_gunicorns_app_reads_the_env_file_and_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / "settings.env"
    dotenv.write_text("SUPPORTER_COUNT_OFFSET=41\nAPPEAL_DISMISS_DAYS=3\n")
    # What gunicorn does with service:create_app(): import the package, call the factory.
    script = (
        "from service import create_app; s = create_app().extensions['settings']; "
        "print(s.supporter_count_offset, s.dismiss_days)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "ENV_FILE": str(dotenv), "APPEAL_DISMISS_DAYS": "9"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["41", "9"]


# ------------------------------------------------------------------------ make's stamps


def make_dry_run(project: Path, target: str) -> list[str]:
    """The pip installs `make target` would run in a project copy (make -n runs nothing)."""
    result = subprocess.run(
        ["make", "-n", target], cwd=project, capture_output=True, text=True, check=True
    )
    return [line.split()[-1] for line in result.stdout.splitlines() if "pip install" in line]


def test_make_run_installs_the_runtime_pins_and_make_test_adds_only_the_dev_ones(
    tmp_path: Path,
) -> None:
    if shutil.which("make") is None:
        pytest.fail("the Makefile test needs make")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").touch()
    main_stamp = tmp_path / ".venv" / ".installed-main"
    dev_stamp = tmp_path / ".venv" / ".installed-dev"

    assert make_dry_run(tmp_path, "run") == ["requirements/main.txt"]
    assert make_dry_run(tmp_path, "test") == ["requirements/main.txt", "requirements/dev.txt"]
    main_stamp.touch()  # after `make run`
    assert make_dry_run(tmp_path, "test") == ["requirements/dev.txt"]
    dev_stamp.touch()  # after `make test`
    assert make_dry_run(tmp_path, "run") == []
    assert make_dry_run(tmp_path, "test") == []
    # New runtime pins: both stamps are stale, each installs once.
    time.sleep(0.01)
    os.utime(tmp_path / "requirements" / "main.txt")
    assert make_dry_run(tmp_path, "run") == ["requirements/main.txt"]
