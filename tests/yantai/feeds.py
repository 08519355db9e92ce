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

            def log_message(self, *args: Any) -> None:
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
