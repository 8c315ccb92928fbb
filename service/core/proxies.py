"""Warn at start when TRUSTED_PROXY_COUNT and the socket gunicorn listens on disagree.

Trusting N proxies means believing the last N X-Forwarded-For entries. That is only
sound when every request comes through those proxies: if gunicorn can be reached
directly, a client writes its own X-Forwarded-For and picks the IP the rate limits see.
The other way round, a service that listens only locally sits behind a proxy, and with
no proxy trusted every reader shares the proxy's IP (and its rate limit).
"""

from __future__ import annotations

import ipaddress
import logging
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

GUNICORN_DEFAULT_BIND = "127.0.0.1:8000"
# Every interface: recognised here, never bound by us.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "*"})  # noqa: S104


def gunicorn_binds(environ: Mapping[str, str], argv: Sequence[str]) -> list[str]:
    """The addresses gunicorn was told to bind, from GUNICORN_CMD_ARGS and its argv.

    Empty when this process is not gunicorn (the flask command, tests, a worker).
    """
    under_gunicorn = bool(argv) and Path(argv[0]).name.startswith("gunicorn")
    args = shlex.split(environ.get("GUNICORN_CMD_ARGS", ""))
    if under_gunicorn:
        args += list(argv[1:])
    elif not args:
        return []
    binds: list[str] = []
    for index, arg in enumerate(args):
        if arg in {"-b", "--bind"} and index + 1 < len(args):
            binds.append(args[index + 1])
        elif arg.startswith("--bind="):
            binds.append(arg.removeprefix("--bind="))
        elif arg.startswith("-b") and len(arg) > 2:
            binds.append(arg[2:])
    return binds or [GUNICORN_DEFAULT_BIND]


def _host(bind: str) -> str | None:
    """The IP or name a bind listens on; None for a Unix socket or inherited descriptor."""
    if bind.startswith(("unix:", "fd://")):
        return None
    if bind.startswith("["):
        return bind[1 : bind.index("]")]
    if bind.count(":") == 1:
        return bind.split(":")[0]
    return bind  # a bare name, or a bare IPv6 address


def _reachable_by_anyone(host: str) -> bool:
    if host in WILDCARD_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return False  # a name: we cannot tell; assume the operator chose it


def _only_local(host: str | None) -> bool:
    if host is None:
        return True
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mismatch(trusted_proxy_count: int, binds: Sequence[str]) -> str | None:
    """Why the proxy setting and the sockets disagree, or None when they agree."""
    if not binds:
        return None
    hosts = [_host(bind) for bind in binds]
    if trusted_proxy_count:
        exposed = [b for b, h in zip(binds, hosts, strict=True) if h and _reachable_by_anyone(h)]
        if exposed:
            return (
                f"TRUSTED_PROXY_COUNT={trusted_proxy_count} trusts X-Forwarded-For, but "
                f"gunicorn listens on {', '.join(exposed)}: anyone who reaches that socket "
                "directly can choose the IP the rate limits see. Make the proxy the only "
                "way in (bind to the address only it reaches, a Unix socket, or a firewall)."
            )
    elif all(_only_local(h) for h in hosts):
        return (
            f"gunicorn listens only on {', '.join(binds)}, so a proxy forwards every "
            "request, but TRUSTED_PROXY_COUNT=0: every reader shares the proxy's IP and "
            "its rate limit. Set TRUSTED_PROXY_COUNT to the number of proxies in front."
        )
    return None


def warn_on_mismatch(
    trusted_proxy_count: int, environ: Mapping[str, str], argv: Sequence[str]
) -> str | None:
    """Log (and return) a warning when the proxy setting and gunicorn's sockets disagree."""
    problem = mismatch(trusted_proxy_count, gunicorn_binds(environ, argv))
    if problem:
        log.warning("%s", problem)
    return problem
