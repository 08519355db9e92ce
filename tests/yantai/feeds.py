"""A real HTTP server on loopback that serves harvest feeds to the tests, with misbehaving routes.

``server.files[path] = bytes`` serves a file; ``server.routes[path] = handler`` lets a test answer
by hand (slow answers, redirects, endless streams). Every request is logged in ``server.hits``.
"""
from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


class FeedServer:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.routes: dict[str, Handler] = {}
        self.hits: list[str] = []
        server = self

        class RequestHandler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                server.hits.append(path)
                if path in server.routes:
                    server.routes[path](self)
                    return
                body = server.files.get(path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


HARVEST_ALLOWED = "ckanext.yantai.harvest.allowed_hosts"


def allow(monkeypatch: pytest.MonkeyPatch, *entries: str, key: str = HARVEST_ALLOWED) -> None:
    """Add host:port entries (or URL prefixes) to an allow-list of the running test config."""
    import ckan.plugins.toolkit as tk

    current = tk.aslist(tk.config.get(key) or [])
    monkeypatch.setitem(tk.config, key, [*current, *entries])


@pytest.fixture
def feeds_allowed(feed_server: FeedServer, ckan_config: Any,
                  monkeypatch: pytest.MonkeyPatch) -> FeedServer:
    """The feed server allow-listed for harvest sources by its host and port (the free port it
    got), as an admin allow-lists a department's feed server; nothing else on loopback."""
    allow(monkeypatch, f"127.0.0.1:{feed_server.port}")
    return feed_server


def ckan_api(server: FeedServer, packages: list[dict[str, Any]], prefix: str = "") -> None:
    """A CKAN portal's ``package_search`` at ``prefix``/api/3/action/ on ``server``: the datasets
    of ``packages`` (the list may change between requests), paged by ``start`` and ``rows`` in id
    order as CKAN pages them, ``fq`` not applied."""
    import json
    import urllib.parse

    def search(handler: http.server.BaseHTTPRequestHandler) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(handler.path).query)
        start, rows = int(query.get("start", ["0"])[0]), int(query.get("rows", ["10"])[0])
        ordered = sorted(packages, key=lambda p: p["id"])
        body = json.dumps({"success": True, "result": {
            "count": len(ordered), "results": ordered[start:start + rows]}},
            ensure_ascii=False).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    server.routes[f"{prefix}/api/3/action/package_search"] = search
