"""The appeal data through a real caching proxy: nginx's proxy_cache in front of gunicorn.

A mid-size site's page views are replayed through nginx: 25 views a second, articles
drawn from a Zipf distribution over 300, readers from a pool of 20,000 with their own
bucket and article count. Each view asks for what the widget asks for (the site document)
and, for comparison, what the widget asked for before (the per-reader appeal URL). The
hit ratio is what nginx says (X-Cache-Status); the origin's requests are counted in
gunicorn's access log.

Time is compressed: the views come TIME_SCALE times faster and the service's cache
lifetime (APPEAL_CACHE_SECONDS, 30 s in production) is TIME_SCALE times shorter, so a
run of a few seconds models minutes of a real site with the same ratios.
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.servers import free_port

VIEWS_PER_SECOND = 25
ARTICLES = 300
READERS = 20_000
ZIPF_EXPONENT = 1.0
PRODUCTION_CACHE_SECONDS = 30
TIME_SCALE = 10
SENDERS = 8
SITE_PATH = "/api/v1/appeals/site"
# What a CDN serves without asking the origin: a fresh hit, or a stale copy while one
# background request refreshes it.
SERVED_FROM_CACHE = frozenset({"HIT", "STALE", "UPDATING", "REVALIDATED"})

_NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  proxy_cache_path {dir}/cache levels=1:2 keys_zone=appeals:10m max_size=200m
                   inactive=10m use_temp_path=off;
  upstream origin {{ server 127.0.0.1:{origin_port}; keepalive 16; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache appeals;
      proxy_cache_key $request_uri;
      proxy_cache_lock on;
      proxy_cache_revalidate on;
      proxy_cache_use_stale updating error timeout http_500 http_502 http_503;
      proxy_cache_background_update on;
      add_header X-Cache-Status $upstream_cache_status always;
    }}
  }}
}}
"""


def nginx_path() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


@contextmanager
def caching_proxy(origin: str) -> Iterator[str]:
    """nginx with proxy_cache in front of origin; yield its base URL."""
    nginx = nginx_path()
    if nginx is None:
        raise RuntimeError("nginx is needed (make bench installs Debian's nginx-light)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as directory:
        conf = Path(directory) / "nginx.conf"
        origin_port = urlsplit(origin).port
        # As root, nginx's workers would run as nobody, who cannot write our temp dir.
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(
            _NGINX_CONF.format(user=user, dir=directory, port=port, origin_port=origin_port)
        )
        process = subprocess.Popen(
            [nginx, "-p", directory, "-c", str(conf)], stdin=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    connection.request("GET", "/healthz")
                    connection.getresponse().read()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("nginx did not start") from None
                    time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class PageView:
    article: int
    reader: int
    bucket: int
    articles_read: int


def page_views(count: int, seed: int = 12) -> list[PageView]:
    """A realistic stream: popular articles read often, readers coming back."""
    rng = random.Random(seed)
    weights = [1 / (rank**ZIPF_EXPONENT) for rank in range(1, ARTICLES + 1)]
    articles = rng.choices(range(ARTICLES), weights=weights, k=count)
    # Some readers are regulars: a Zipf-like pool of readers too.
    reader_weights = [1 / (rank**0.8) for rank in range(1, READERS + 1)]
    readers = rng.choices(range(READERS), weights=reader_weights, k=count)
    bucket_of = {r: rng.randrange(100) for r in set(readers)}
    reads: Counter[int] = Counter()
    views = []
    for article, reader in zip(articles, readers, strict=True):
        reads[reader] += 1
        views.append(PageView(article, reader, bucket_of[reader], min(reads[reader], 100)))
    return views


def old_appeal_path(view: PageView) -> str:
    """The per-reader URL the widget asked for before the site document."""
    return (
        f"/api/v1/appeals?placements=top,bottom&article_id=story-{view.article}"
        f"&section=news&tags=council&articles_read={view.articles_read}&reader={view.bucket}"
    )


@dataclass(frozen=True)
class CdnRun:
    name: str
    views: int
    seconds: float
    served_from_cache: int
    origin_requests: int
    statuses: dict[str, int]

    @property
    def hit_ratio(self) -> float:
        return self.served_from_cache / self.views if self.views else 0.0

    @property
    def origin_per_thousand(self) -> float:
        return 1000 * self.origin_requests / self.views if self.views else 0.0


def replay(proxy: str, paths: list[str], *, per_second: float) -> tuple[Counter[str], float]:
    """Send paths through the proxy at a steady rate; count X-Cache-Status answers."""
    parts = urlsplit(proxy)
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    began = time.monotonic()

    def sender(offset: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        for index in range(offset, len(paths), SENDERS):
            due = began + index / per_second
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            connection.request("GET", paths[index], headers={"Accept-Encoding": "gzip"})
            response = connection.getresponse()
            response.read()
            status = response.getheader("X-Cache-Status") or f"HTTP {response.status}"
            if response.status != 200:
                status = f"HTTP {response.status}"
            with lock:
                statuses[status] += 1
        connection.close()

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, time.monotonic() - began


def count_origin_requests(access_log: Path, path_prefix: str) -> int:
    marker = f'"GET {path_prefix}'
    try:
        return sum(1 for line in access_log.read_text().splitlines() if marker in line)
    except FileNotFoundError:
        return 0


def run_cdn(proxy: str, access_log: Path, name: str, paths: list[str], prefix: str) -> CdnRun:
    before = count_origin_requests(access_log, prefix)
    statuses, seconds = replay(proxy, paths, per_second=VIEWS_PER_SECOND * TIME_SCALE)
    time.sleep(0.5)  # background refreshes finish and reach the log
    origin = count_origin_requests(access_log, prefix) - before
    cached = sum(n for status, n in statuses.items() if status in SERVED_FROM_CACHE)
    return CdnRun(name, len(paths), seconds, cached, origin, dict(statuses))
