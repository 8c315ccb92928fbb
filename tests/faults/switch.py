"""A WSGI front that can be pointed at another app mid-test (to stage an outage)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tests.conftest import make_test_app
from tests.live import reserve_port


class Switch:
    """Forward every request to `target`; tests swap it to take the backend down or up."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        result: Iterable[bytes] = self.target(environ, start_response)
        return result


def unreachable_database_url(is_postgres: bool, tmp_dir: str) -> str:
    """A database URL of the backend under test that cannot be reached."""
    if is_postgres:
        return f"postgresql://postgres@127.0.0.1:{reserve_port()}/gone"
    return f"sqlite:///{tmp_dir}/no/such/dir/contributions.db"


def app_without_database(is_postgres: bool, tmp_dir: str, **overrides: Any) -> Any:
    """The service exactly as configured, except that its database does not answer."""
    return make_test_app(unreachable_database_url(is_postgres, tmp_dir), **overrides)
