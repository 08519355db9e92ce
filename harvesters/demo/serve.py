"""The demo's harvest feeds over HTTP on loopback (``make up`` starts it; DEMO_FEEDS_PORT).

The files under ``feeds/`` are served as they are, as a department's web server would serve them,
and ``/<portal>/api/3/action/package_search`` answers as a CKAN portal does, from
``feeds/<portal>/packages.json``: paged by ``start`` and ``rows`` in id order (what the ``ckan``
harvester asks for). Nothing else of the CKAN API is there. In RDF documents and in
``packages.json``, ``{{base}}`` stands for this server's address (links between pages, files).

    python harvesters/demo/serve.py PORT
"""
from __future__ import annotations

import functools
import http.server
import json
import pathlib
import sys
import urllib.parse

FEEDS = pathlib.Path(__file__).resolve().parent / "feeds"
SEARCH = "/api/3/action/package_search"
TEMPLATES = {".ttl": "text/turtle", ".rdf": "application/rdf+xml"}


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        parts = urllib.parse.urlsplit(self.path)
        if parts.path.endswith(SEARCH):
            self.search(parts.path[:-len(SEARCH)].strip("/"), urllib.parse.parse_qs(parts.query))
            return
        suffix = pathlib.PurePosixPath(parts.path).suffix
        if suffix in TEMPLATES:
            target = pathlib.Path(self.translate_path(parts.path))
            if target.is_file():
                self.answer(self.filled(target), TEMPLATES[suffix])
                return
        super().do_GET()

    def filled(self, path: pathlib.Path) -> bytes:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        return path.read_text("utf-8").replace("{{base}}", base).encode()

    def answer(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def search(self, portal: str, query: dict[str, list[str]]) -> None:
        listing = FEEDS / portal / "packages.json"
        if "/" in portal or not portal or not listing.is_file():
            self.send_error(404)
            return
        packages = sorted(json.loads(self.filled(listing)), key=lambda p: p["id"])
        try:
            start, rows = int(query.get("start", ["0"])[0]), int(query.get("rows", ["10"])[0])
        except ValueError:
            self.send_error(400)
            return
        body = json.dumps({"success": True, "result": {
            "count": len(packages), "results": packages[start:start + max(0, min(rows, 1000))]}},
            ensure_ascii=False).encode()
        self.answer(body, "application/json")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (its name)
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def main() -> None:
    port = int(sys.argv[1])
    handler = functools.partial(Handler, directory=str(FEEDS))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
