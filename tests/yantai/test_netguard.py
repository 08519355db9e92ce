"""Outbound HTTP of harvesters and link checks: public addresses only, allow-list entries by host
and port, the portal's own services never, bounded; pure rules with injected resolvers, downloads
against a real server on loopback (allow-listed by its port where a test needs to reach it)."""
from __future__ import annotations

import gzip
import ipaddress
import time

import pytest

from ckanext.yantai import netguard

pytestmark = pytest.mark.pure

SOLR = netguard.Endpoint("127.0.0.1", 8983)  # a protected service, as config.py lists them


def policy(*entries: str, protected: tuple[netguard.Endpoint, ...] = (),
           is_local: netguard.LocalCheck = netguard.local_address) -> netguard.Policy:
    return netguard.Policy(netguard.parse_allow_list(entries), protected, is_local)


def loopback(server) -> netguard.Policy:
    """The feed server allow-listed by its host and port."""
    return policy(f"127.0.0.1:{server.port}")


def refusal(url: str, rules: netguard.Policy = netguard.Policy(),
            resolver: netguard.Resolver = netguard.resolve) -> str:
    with pytest.raises(netguard.Refused) as refused:
        netguard.check(url, rules, resolver)
    return refused.value.code


# -- URLs and host names ------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x",
                                 "gopher://127.0.0.1:70/", "drop:jtj", "http:///nohost",
                                 "javascript:alert(1)"])
def test_only_http_urls(url):
    assert refusal(url) == "url_scheme"


@pytest.mark.parametrize("url", ["http://feeds.example:99999/", "http://feeds.example:80x/",
                                 "http://[::1/"])
def test_malformed_urls_are_refused(url):
    assert refusal(url, resolver=lambda host: ["1.2.3.4"]) == "url_invalid"


@pytest.mark.parametrize("host, normal", [
    ("LOCALHOST", "localhost"), ("localhost.", "localhost"), ("ＬＯＣＡＬＨＯＳＴ", "localhost"),
    ("127.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"), ("１２７．０．０．１", "127.0.0.1"),
    ("::ffff:127.0.0.1", "::ffff:7f00:1"), ("bücher.example", "xn--bcher-kva.example"),
    ("烟台.中国", "xn--kpr368d.xn--fiqs8s"), ("exa\u200bmple.com", "example.com"),
])
def test_hosts_are_normalised_before_anything_is_decided(host, normal):
    assert netguard.normalize_host(host) == normal


@pytest.mark.parametrize("host", ["xn--zz.example", "a..b", "999.1.1.1", "exa mple.com",
                                  "fe80::1%eth0", "-lead.example", "a/b", "\u0378.example"])
def test_invalid_host_names_are_refused_with_their_own_code(host):
    with pytest.raises(netguard.Refused) as refused:
        netguard.normalize_host(host)
    assert refused.value.code == "host_invalid"


def test_an_idn_is_resolved_and_checked_in_ascii():
    asked = []

    def resolver(host):
        asked.append(host)
        return ["1.2.3.4"]

    target = netguard.check("http://Bücher.example/x", resolver=resolver)
    assert asked == ["xn--bcher-kva.example"] and target.host == "xn--bcher-kva.example"
    assert refusal("http://xn--zz.example/", resolver=resolver) == "host_invalid"


def test_unknown_hosts_are_reported():
    assert refusal("http://no-such-host.invalid/") == "host_not_found"


# -- addresses ----------------------------------------------------------------------------------

NOT_PUBLIC = [
    "127.0.0.1", "127.0.0.2", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "255.255.255.255", "240.0.0.1", "224.0.0.1", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::5", "fd12:3456::1", "ff0e::1",
    "fec0::1",  # site-local (deprecated, still routed inside some networks)
    "::ffff:127.0.0.1", "::ffff:10.0.0.1",  # IPv4-mapped
    "::127.0.0.1", "::8.8.8.8",  # IPv4-compatible (deprecated: never public)
    "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe",  # NAT64 of internal addresses
    "64:ff9b:1::808:808",  # local-use NAT64 prefix
    "2002:7f00:1::1", "2002:a00:1::1", "2002:c0a8:101::1",  # 6to4 of internal addresses
    "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:0:5ef5:79fd::8:8",  # Teredo
    "2001:db8::1", "5f00::1", "100::1",
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_addresses_of_the_portals_own_network_are_refused(address):
    assert not netguard.public_address(address)
    assert refusal("http://feeds.example/x", resolver=lambda host: [address]) \
        == "address_not_public"


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8",
                                     "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_and_forms_carrying_them_pass(address):
    assert netguard.public_address(address)
    assert netguard.check("http://feeds.example/x", resolver=lambda host: [address]).public


@pytest.mark.parametrize("answer", [["1.2.3.4", "10.0.0.1"], ["10.0.0.1", "1.2.3.4"],
                                    ["2606:4700::1111", "::1"], ["1.2.3.4", "64:ff9b::7f00:1"]])
def test_every_resolved_address_is_checked(answer):
    """One internal address among public ones refuses the URL, wherever it is in the answer:
    a mixed answer is how rebinding hides an internal address."""
    assert refusal("http://feeds.example/x", resolver=lambda host: answer) == "address_not_public"


def test_all_checked_addresses_are_kept_for_the_connection():
    target = netguard.check("http://feeds.example/x",
                            resolver=lambda host: ["1.2.3.4", "2606:4700::1111"])
    assert target.addresses == ("1.2.3.4", "2606:4700::1111")
    assert netguard.target_address("http://feeds.example/x",
                                   resolver=lambda host: ["1.2.3.4"]) == "1.2.3.4"


# -- the allow-list -----------------------------------------------------------------------------

@pytest.mark.parametrize("entry, shown", [
    ("127.0.0.1:8903", "127.0.0.1:8903"), ("[::1]:8903", "[::1]:8903"),
    ("feeds.example.internal:443", "feeds.example.internal:443"),
    ("FEEDS.Example.:80", "feeds.example:80"),
    ("http://127.0.0.1:8903/feeds/", "http://127.0.0.1:8903/feeds/"),
    ("https://feeds.example/", "https://feeds.example:443/"),
    ("http://[::1]:8903/x", "http://[::1]:8903/x"),
])
def test_allow_list_entries_name_a_host_and_port_or_a_url_prefix(entry, shown):
    assert str(netguard.parse_allow_entry(entry)) == shown


@pytest.mark.parametrize("entry, code", [
    ("127.0.0.1", "allow_no_port"), ("localhost", "allow_no_port"),
    ("feeds.example.internal", "allow_no_port"), ("[::1]", "allow_no_port"),
    ("10.20.0.0/16", "allow_network"), ("127.0.0.0/8:80", "allow_network"),
    ("fc00::/7", "allow_network"), ("[fc00::/7]:80", "allow_network"),
    ("::1", "allow_ipv6"), ("::1:8903", "allow_ipv6"),
    ("127.0.0.1:0", "allow_port"), ("127.0.0.1:65536", "allow_port"),
    ("127.0.0.1:*", "allow_port"), ("127.0.0.1:", "allow_port"),
    ("127.0.0.1:８９０３", "allow_port"),
    ("http://user:pw@127.0.0.1:8903/", "allow_url"), ("http://127.0.0.1:8903/?q=1", "allow_url"),
    ("http://127.0.0.1:8903/feeds/../solr/", "allow_url"),
    ("http://127.0.0.1:8903/feeds/%2e%2e/solr/", "allow_url"),
    ("ftp://127.0.0.1:21/", "allow_url"), ("http://127.0.0.1:99999/", "allow_url"),
    ("xn--zz.example:80", "allow_host"), ("[not-an-address]:80", "allow_host"),
])
def test_bare_hosts_networks_and_bad_entries_are_configuration_errors(entry, code):
    with pytest.raises(netguard.ConfigError) as error:
        netguard.parse_allow_entry(entry)
    assert (error.value.code, error.value.entry) == (code, entry)


def test_an_entry_opens_its_port_only():
    rules = policy("127.0.0.1:8903")
    assert netguard.check("http://127.0.0.1:8903/feed.csv", rules).addresses == ("127.0.0.1",)
    assert refusal("http://127.0.0.1:8904/", rules) == "address_not_public"
    assert refusal("http://127.0.0.1/", rules) == "address_not_public"  # port 80
    assert refusal("http://10.0.0.1:8903/", rules) == "address_not_public"


def test_a_named_entry_opens_the_name_on_its_port_and_an_address_entry_the_address():
    names = {"feeds.internal": ["10.0.0.7"], "other.internal": ["10.0.0.7"]}.__getitem__
    rules = policy("feeds.internal:8080")
    assert netguard.check("http://FEEDS.internal.:8080/x", rules, names).addresses == \
        ("10.0.0.7",)
    assert refusal("http://other.internal:8080/x", rules, names) == "address_not_public"
    by_address = policy("10.0.0.7:8080", "[::ffff:10.0.0.8]:8080")
    assert netguard.check("http://other.internal:8080/x", by_address, names)
    assert netguard.check("http://10.0.0.8:8080/x", by_address)  # mapped form = the address


def test_a_url_prefix_opens_that_path_and_below_only():
    rules = policy("http://10.0.0.7:8080/feeds/", "http://10.0.0.7:8080/exact.csv")
    assert netguard.check("http://10.0.0.7:8080/feeds/a/b.csv?x=1", rules)
    assert netguard.check("http://10.0.0.7:8080/exact.csv", rules)
    for url in ["http://10.0.0.7:8080/solr/", "http://10.0.0.7:8080/feedsX",
                "http://10.0.0.7:8080/feeds/../solr/", "http://10.0.0.7:8080/feeds/%2e%2e/solr",
                "http://10.0.0.7:8080/feeds/..%2fsolr", "http://10.0.0.7:8080/feeds\\..\\solr",
                "https://10.0.0.7:8080/feeds/", "http://10.0.0.7:8081/feeds/",
                "http://10.0.0.7:8080/exact.csvx"]:
        assert refusal(url, rules) == "address_not_public", url


# -- the portal's own services ------------------------------------------------------------------

LOOPBACK_NAMES = {"localhost": ["127.0.0.1", "::1"], "localhost.": ["127.0.0.1"],
                  "rebind.example": ["1.2.3.4", "127.0.0.1"]}


@pytest.mark.parametrize("host", [
    "127.0.0.1", "localhost", "LOCALHOST", "localhost.", "ＬＯＣＡＬＨＯＳＴ", "127.1",
    "2130706433",
    "0x7f000001", "0177.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "127.0.0.2",
    "0.0.0.0", "[::]", "[0:0:0:0:0:ffff:127.0.0.1]"])
def test_a_protected_service_is_refused_whatever_the_allow_list_says(host):
    """Solr on 127.0.0.1:8983, the allow-list opening it (and every other form) explicitly:
    every spelling of this machine on that port is refused."""
    rules = policy("127.0.0.1:8983", "localhost:8983", "127.0.0.2:8983", "0.0.0.0:8983",
                   "[::1]:8983", "[::]:8983", "http://127.0.0.1:8983/solr/",
                   protected=(SOLR,))
    url = f"http://{host}:8983/solr/ckan/select?q=*:*&wt=csv&fl=validated_data_dict"
    assert refusal(url, rules, LOOPBACK_NAMES.__getitem__) == "protected_service"


def test_the_other_ports_of_this_machine_stay_as_the_allow_list_says():
    rules = policy("127.0.0.1:8903", protected=(SOLR,))
    assert netguard.check("http://127.0.0.1:8903/feeds/", rules)
    assert refusal("http://127.0.0.1:8904/", rules) == "address_not_public"


def test_an_interface_address_of_this_machine_counts_as_loopback():
    rules = policy("192.0.2.10:8983", protected=(SOLR,),
                   is_local=lambda ip: ip.is_loopback or str(ip) == "192.0.2.10")
    assert refusal("http://192.0.2.10:8983/solr/", rules) == "protected_service"
    assert refusal("http://[::ffff:192.0.2.10]:8983/solr/", rules) == "protected_service"


def test_a_service_named_by_host_name_is_refused_by_name_and_address():
    """Production: Solr is solr:8983 inside the container network."""
    names = {"solr": ["172.18.0.3"], "alias.internal": ["172.18.0.3"]}.__getitem__
    rules = policy("solr:8983", "alias.internal:8983", "172.18.0.3:8983",
                   protected=(netguard.Endpoint("solr", 8983),), is_local=lambda ip: False)
    for url in ["http://solr:8983/", "http://SOLR.:8983/", "http://alias.internal:8983/",
                "http://172.18.0.3:8983/", "http://[::ffff:172.18.0.3]:8983/"]:
        assert refusal(url, rules, names) == "protected_service", url


def test_a_name_with_one_protected_address_among_others_is_refused():
    rules = policy("rebind.example:8983", protected=(SOLR,))
    assert refusal("http://rebind.example:8983/", rules, LOOPBACK_NAMES.__getitem__) \
        == "protected_service"


@pytest.mark.parametrize("option, url, default, expected", [
    ("sqlalchemy.url", "postgresql://ckan:pw@127.0.0.1:5433/ckan", None, ("127.0.0.1", 5433)),
    ("sqlalchemy.url", "postgresql+psycopg2://ckan:pw@db/ckan", 5432, ("db", 5432)),
    ("ckan.redis.url", "redis://:pw@127.0.0.1:6380/1", None, ("127.0.0.1", 6380)),
    ("ckan.redis.url", "redis://redis/0", 6379, ("redis", 6379)),
    ("solr_url", "http://127.0.0.1:8983/solr/ckan", None, ("127.0.0.1", 8983)),
    ("ckan.site_url", "https://data.yantai.gov.cn", None, ("data.yantai.gov.cn", 443)),
    ("ckan.site_url", "http://[::1]:5000", None, ("::1", 5000)),
    ("ckanext.yantai.credit.endpoint", "http://127.0.0.1:8902", None, ("127.0.0.1", 8902)),
])
def test_service_urls_give_their_host_and_port(option, url, default, expected):
    assert netguard.endpoint_of_url(url, default) == netguard.Endpoint(*expected)


def test_a_service_url_without_a_host_names_no_endpoint():
    assert netguard.endpoint_of_url("postgresql:///ckan?host=/var/run/postgresql") is None
    assert netguard.endpoint_of_url("unix:///run/redis.sock") is None


# -- downloads ----------------------------------------------------------------------------------

def test_the_connection_goes_to_the_checked_address(feed_server):
    """The name is resolved once, by the check: the request goes to that address, with the
    name (in ASCII) in its Host header."""
    seen = {}

    def answer(handler):
        seen["host"] = handler.headers["Host"]
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")

    feed_server.routes["/pinned"] = answer
    calls = []

    def resolver(host):
        calls.append(host)
        return ["127.0.0.1"]

    download = netguard.fetch(f"http://Bücher.example:{feed_server.port}/pinned", max_bytes=100,
                              policy=policy(f"bücher.example:{feed_server.port}"),
                              resolver=resolver)
    assert download.content == b"ok"
    assert calls == ["xn--bcher-kva.example"]
    assert seen["host"] == f"xn--bcher-kva.example:{feed_server.port}"


def test_when_a_checked_address_refuses_the_next_checked_one_is_used(feed_server):
    feed_server.files["/x"] = b"x"
    rules = policy(f"feeds.example:{feed_server.port}")
    # The feed server listens on 127.0.0.1 only: 127.0.0.3 refuses the connection.
    download = netguard.fetch(f"http://feeds.example:{feed_server.port}/x", max_bytes=10,
                              policy=rules, resolver=lambda host: ["127.0.0.3", "127.0.0.1"])
    assert download.content == b"x"


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
        netguard.fetch(feed_server.url("/to-metadata"), max_bytes=100,
                       policy=loopback(feed_server))
    assert refused.value.code == "address_not_public"
    assert feed_server.hits == ["/to-metadata"]


def test_an_allow_listed_server_cannot_redirect_into_a_protected_service(feed_server):
    protected = netguard.Endpoint("127.0.0.1", feed_server.port + 1 if feed_server.port < 65535
                                  else feed_server.port - 1)
    feed_server.routes["/to-solr"] = _redirect(
        f"http://localhost:{protected.port}/solr/ckan/select?q=*:*&wt=csv")
    rules = policy(f"127.0.0.1:{feed_server.port}", f"127.0.0.1:{protected.port}",
                   protected=(protected,))
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/to-solr"), max_bytes=100, policy=rules,
                       resolver=lambda host: ["127.0.0.1"])
    assert refused.value.code == "protected_service"


def test_a_public_server_cannot_redirect_into_an_allow_listed_host(feed_server, monkeypatch):
    # Pretend the feed server's address is a public one; internal.example is allow-listed.
    monkeypatch.setattr(netguard, "public_address", lambda address: str(address) == "127.0.0.1")
    addresses = {"public.example": ["127.0.0.1"], "internal.example": ["127.0.0.3"]}
    feed_server.routes["/bounce"] = _redirect("http://internal.example/secret")
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(f"http://public.example:{feed_server.port}/bounce", max_bytes=100,
                       policy=policy("internal.example:80"), resolver=addresses.__getitem__)
    assert refused.value.code == "address_not_public"
    assert feed_server.hits == ["/bounce"]


def test_redirects_are_followed_within_the_rules_and_not_for_ever(feed_server):
    feed_server.files["/final"] = b"data"
    feed_server.routes["/moved"] = _redirect("/final")
    assert netguard.fetch(feed_server.url("/moved"), max_bytes=100,
                          policy=loopback(feed_server)).content == b"data"
    feed_server.routes["/loop"] = _redirect("/loop")
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/loop"), max_bytes=100, policy=loopback(feed_server))
    assert refused.value.code == "too_many_redirects"


def test_size_limits_declared_and_streamed(feed_server):
    feed_server.files["/big"] = b"x" * 5000
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/big"), max_bytes=4999, policy=loopback(feed_server))
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
        netguard.fetch(feed_server.url("/endless"), max_bytes=100_000,
                       policy=loopback(feed_server))
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
        netguard.fetch(feed_server.url("/bomb"), max_bytes=1024 * 1024,
                       policy=loopback(feed_server))
    assert refused.value.code == "too_large"


def test_a_silent_server_times_out(feed_server):
    def silent(handler):
        time.sleep(3)

    feed_server.routes["/silent"] = silent
    started = time.monotonic()
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/silent"), max_bytes=100, policy=loopback(feed_server),
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
        netguard.fetch(feed_server.url("/trickle"), max_bytes=10**9, policy=loopback(feed_server),
                       read_timeout=5, deadline=1)
    assert refused.value.code == "timeout"
    assert time.monotonic() - started < 4


def test_error_answers_are_reported_with_their_status(feed_server):
    with pytest.raises(netguard.Refused) as refused:
        netguard.fetch(feed_server.url("/missing"), max_bytes=100, policy=loopback(feed_server))
    assert (refused.value.code, refused.value.params["status"]) == ("http_status", "404")


def test_embedded_ipv4_addresses_are_decoded():
    cases = {"::ffff:10.0.0.1": "10.0.0.1", "64:ff9b::a00:1": "10.0.0.1",
             "2002:a00:1::1": "10.0.0.1", "::10.0.0.1": "10.0.0.1",
             "2001:0:4136:e378:8000:63bf:f5ff:fffe": "10.0.0.1"}
    for outer, inner in cases.items():
        assert netguard.embedded_ipv4(ipaddress.ip_address(outer)) == \
            ipaddress.IPv4Address(inner), outer
    assert netguard.embedded_ipv4(ipaddress.ip_address("2606:4700::1111")) is None
