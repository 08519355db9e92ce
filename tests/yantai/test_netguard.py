"""Outbound HTTP of harvesters and link checks: public addresses only, bounded; against a real
server on loopback (allow-listed where a test needs to reach it)."""
from __future__ import annotations

import gzip
import time

import pytest

from ckanext.yantai import netguard

pytestmark = pytest.mark.pure
LOOPBACK = ("127.0.0.1",)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x",
                                 "gopher://127.0.0.1:70/", "drop:jtj", "http:///nohost",
                                 "javascript:alert(1)"])
def test_only_http_urls(url):
    with pytest.raises(netguard.Refused) as refused:
        netguard.target_address(url)
    assert refused.value.code == "url_scheme"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1",
                                     "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1",
                                     "fe80::1", "fc00::5", "224.0.0.1", "::ffff:127.0.0.1"])
def test_addresses_of_the_portals_own_network_are_refused(address):
    with pytest.raises(netguard.Refused) as refused:
        netguard.target_address("http://feeds.example/x", resolver=lambda host: [address])
    assert refused.value.code == "address_not_public"


def test_one_private_answer_among_public_ones_is_enough_to_refuse():
    with pytest.raises(netguard.Refused):
        netguard.target_address("http://feeds.example/x",
                                resolver=lambda host: ["1.2.3.4", "10.0.0.1"])
    assert netguard.target_address("http://feeds.example/x",
                                   resolver=lambda host: ["1.2.3.4"]) == "1.2.3.4"


@pytest.mark.parametrize("allow", [["127.0.0.1"], ["127.0.0.0/8"], ["feeds.example"]])
def test_an_allow_list_admits_hosts_addresses_and_networks(allow):
    address = netguard.target_address("http://feeds.example/x", allow,
                                      resolver=lambda host: ["127.0.0.1"])
    assert address == "127.0.0.1"


def test_unknown_hosts_are_reported():
    with pytest.raises(netguard.Refused) as refused:
        netguard.target_address("http://no-such-host.invalid/")
    assert refused.value.code == "host_not_found"


def test_the_connection_goes_to_the_checked_address(feed_server):
    """The name is resolved once, by the check: the request goes to that address, with the
    name in its Host header."""
    seen = {}

    def answer(handler):
        seen["host"] = handler.headers["Host"]
        body = b"ok"
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(body)

    feed_server.routes["/pinned"] = answer
    calls = []

    def resolver(host):
        calls.append(host)
        return ["127.0.0.1"]

    download = netguard.fetch(f"http://feeds.example:{feed_server.port}/pinned",
                              max_bytes=100, allow_list=["feeds.example"], resolver=resolver)
    assert download.content == b"ok"
    assert calls == ["feeds.example"]
    assert seen["host"] == f"feeds.example:{feed_server.port}"


def _redirect(location):
    def answer(handler):
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return answer


def test_each_redirect_hop_is_checked(feed_server):
    feed_server.routes["/to-metadata"] = _redirect("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/to-metadata"), max_bytes=100, allow_list=LOOPBACK)
    assert refused.value.code == "address_not_public"
    assert feed_server.hits == ["/to-metadata"]


def test_a_public_server_cannot_redirect_into_an_allow_listed_host(feed_server, monkeypatch):
    # Pretend the feed server's address is a public one; internal.example is allow-listed.
    monkeypatch.setattr(netguard, "public_address", lambda address: address == "127.0.0.1")
    addresses = {"public.example": ["127.0.0.1"], "internal.example": ["127.0.0.3"]}
    feed_server.routes["/bounce"] = _redirect("http://internal.example/secret")
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(f"http://public.example:{feed_server.port}/bounce", max_bytes=100,
                       allow_list=["internal.example"], resolver=addresses.__getitem__)
    assert refused.value.code == "address_not_public"
    assert feed_server.hits == ["/bounce"]


def test_redirects_are_followed_within_the_rules_and_not_for_ever(feed_server):
    feed_server.files["/final"] = b"data"
    feed_server.routes["/moved"] = _redirect("/final")
    assert netguard.fetch(feed_server.url("/moved"), max_bytes=100,
                          allow_list=LOOPBACK).content == b"data"
    feed_server.routes["/loop"] = _redirect("/loop")
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/loop"), max_bytes=100, allow_list=LOOPBACK)
    assert refused.value.code == "too_many_redirects"


def test_size_limits_declared_and_streamed(feed_server):
    feed_server.files["/big"] = b"x" * 5000
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/big"), max_bytes=4999, allow_list=LOOPBACK)
    assert refused.value.code == "too_large"

    def endless(handler):  # no Content-Length: the limit must hold while reading
        handler.send_response(200)
        handler.end_headers()
        try:
            for _ in range(10_000):
                handler.wfile.write(b"y" * 1024)
        except OSError:
            pass

    feed_server.routes["/endless"] = endless
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/endless"), max_bytes=100_000, allow_list=LOOPBACK)
    assert refused.value.code == "too_large"


def test_a_compressed_answer_counts_by_what_it_expands_to(feed_server):
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    assert len(bomb) < 100_000

    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(bomb)))
        handler.end_headers()
        handler.wfile.write(bomb)

    feed_server.routes["/bomb"] = answer
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/bomb"), max_bytes=1024 * 1024, allow_list=LOOPBACK)
    assert refused.value.code == "too_large"


def test_a_silent_server_times_out(feed_server):
    def silent(handler):
        time.sleep(3)

    feed_server.routes["/silent"] = silent
    started = time.monotonic()
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/silent"), max_bytes=100, allow_list=LOOPBACK,
                       read_timeout=0.5)
    assert refused.value.code == "timeout"
    assert time.monotonic() - started < 2.5


def test_a_trickling_server_meets_the_overall_deadline(feed_server):
    def trickle(handler):
        handler.send_response(200)
        handler.end_headers()
        try:
            for _ in range(100):
                handler.wfile.write(b"z" * 70_000)
                handler.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    feed_server.routes["/trickle"] = trickle
    started = time.monotonic()
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/trickle"), max_bytes=10**9, allow_list=LOOPBACK,
                       read_timeout=5, deadline=1)
    assert refused.value.code == "timeout"
    assert time.monotonic() - started < 4


def test_error_answers_are_reported_with_their_status(feed_server):
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/missing"), max_bytes=100, allow_list=LOOPBACK)
    assert (refused.value.code, refused.value.params["status"]) == ("http_status", "404")
