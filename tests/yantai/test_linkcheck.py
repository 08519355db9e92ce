"""Resource reachability checks against a real HTTP server on loopback."""
from __future__ import annotations

import http.server
import threading

import pytest

from ckanext.yantai import linkcheck, netguard

pytestmark = pytest.mark.pure


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, body: bool) -> None:
        routes = {"/ok": 200, "/missing": 404, "/broken": 500}
        if self.path == "/to-private":
            self.send_response(302)
            self.send_header("Location", "http://10.1.2.3/secret")
        elif self.path == "/to-ok":
            self.send_response(301)
            self.send_header("Location", "/ok")
        elif self.path == "/no-head" and self.command == "HEAD":
            self.send_response(405)
        elif self.path == "/no-head":
            self.send_response(200)
        else:
            self.send_response(routes.get(self.path, 404))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self):  # noqa: N802
        self._answer(False)

    def do_GET(self):  # noqa: N802
        self._answer(True)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def allowed(server: str) -> netguard.Policy:
    """The test server allow-listed by its host and port."""
    return netguard.Policy(netguard.parse_allow_list([server.split("//", 1)[1]]))


@pytest.mark.parametrize("path, ok, status", [("/ok", True, 200), ("/missing", False, 404),
                                              ("/broken", False, 500), ("/no-head", True, 200),
                                              ("/to-ok", True, 200)])
def test_answers(server, path, ok, status):
    result = linkcheck.check_url(server + path, policy=allowed(server))
    assert (result.ok, result.status_code) == (ok, status)


def test_loopback_is_refused_unless_allow_listed(server):
    result = linkcheck.check_url(server + "/ok")
    assert result == linkcheck.Result(False, None, "not a public address")


def test_a_redirect_into_a_private_network_is_refused(server):
    result = linkcheck.check_url(server + "/to-private", policy=allowed(server))
    assert result == linkcheck.Result(False, None, "not a public address")


@pytest.mark.parametrize("address", ["10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
                                     "::1", "fd00::1", "0.0.0.0"])
def test_names_resolving_to_internal_addresses_are_refused(address):
    result = linkcheck.check_url("http://intranet.example/",
                                 resolver=lambda host: [address])
    assert result.error == "not a public address"


def test_only_http_and_https():
    assert linkcheck.check_url("file:///etc/passwd").error == "not an http(s) URL"
    assert linkcheck.check_url("ftp://example.com/x").error == "not an http(s) URL"


def test_unreachable_host():
    result = linkcheck.check_url("http://nothing.invalid/")
    assert result == linkcheck.Result(False, None, "host not found")


def test_uploads_are_checked_in_the_file_store(tmp_path):
    present = tmp_path / "file"
    present.write_bytes(b"x")
    assert linkcheck.check_upload(str(present)).ok is True
    assert linkcheck.check_upload(str(tmp_path / "gone")) == linkcheck.Result(False, None,
                                                                               "file missing")


def test_the_checked_address_is_the_one_connected_to(server):
    """A name whose DNS answer changes after the check (rebinding) cannot reach another host:
    the checker connects to the address it checked and resolves the name only once."""
    port = server.rsplit(":", 1)[1]
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    calls = []

    def rebinding(host):
        calls.append(host)
        return next(answers)

    result = linkcheck.check_url(f"http://portal.test:{port}/ok",
                                 policy=allowed(f"http://portal.test:{port}"),
                                 resolver=rebinding)
    assert result == linkcheck.Result(True, 200, None)
    assert calls == ["portal.test"]
