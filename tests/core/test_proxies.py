"""The service warns at start when TRUSTED_PROXY_COUNT and gunicorn's sockets disagree."""

from __future__ import annotations

import logging

import pytest

from service.core.proxies import gunicorn_binds, mismatch
from tests.conftest import make_test_app

GUNICORN = "/srv/.venv/bin/gunicorn"


@pytest.mark.parametrize(
    ("environ", "argv", "binds"),
    [
        ({}, ["pytest"], []),
        ({}, [GUNICORN, "service:create_app()"], ["127.0.0.1:8000"]),
        ({}, [GUNICORN, "--bind", "0.0.0.0:8000", "app"], ["0.0.0.0:8000"]),
        (
            {},
            [GUNICORN, "-b", "unix:/run/app.sock", "-b127.0.0.1:9"],
            ["unix:/run/app.sock", "127.0.0.1:9"],
        ),
        ({"GUNICORN_CMD_ARGS": "--bind=[::]:8000 --workers 2"}, ["x"], ["[::]:8000"]),
    ],
)
def test_gunicorn_binds_are_read_from_its_arguments(
    environ: dict[str, str], argv: list[str], binds: list[str]
) -> None:
    assert gunicorn_binds(environ, argv) == binds


@pytest.mark.parametrize(
    ("trusted", "binds", "warns"),
    [
        (1, ["0.0.0.0:8000"], "anyone who reaches"),
        (1, ["[::]:8000"], "anyone who reaches"),
        (2, ["93.184.216.34:8000"], "anyone who reaches"),
        (1, ["127.0.0.1:8000"], None),
        (1, ["10.0.3.4:8000"], None),
        (1, ["unix:/run/app.sock"], None),
        (0, ["127.0.0.1:8000"], "shares the proxy's IP"),
        (0, ["unix:/run/app.sock"], "shares the proxy's IP"),
        (0, ["0.0.0.0:8000"], None),
        (1, [], None),
    ],
)
def test_the_setting_and_the_socket_are_compared(
    trusted: int, binds: list[str], warns: str | None
) -> None:
    problem = mismatch(trusted, binds)
    if warns is None:
        assert problem is None
    else:
        assert problem is not None and warns in problem


def test_the_service_warns_at_start(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--bind 0.0.0.0:8000")
    with caplog.at_level(logging.WARNING, logger="service.core.proxies"):
        make_test_app(database_url, trusted_proxy_count=1)
    assert "TRUSTED_PROXY_COUNT=1 trusts X-Forwarded-For" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="service.core.proxies"):
        make_test_app(database_url, trusted_proxy_count=0)
    assert caplog.text == ""
