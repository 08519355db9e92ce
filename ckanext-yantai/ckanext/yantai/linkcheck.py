"""Reachability of resources, for the metadata-quality score.

An uploaded file is reachable when the file store has it; a linked URL when it answers below 400.
Links are followed only to public addresses: loopback, private, link-local and other reserved
addresses are refused (no requests into the portal's own network), unless the host is allow-listed
in ``ckanext.yantai.linkcheck.allowed_hosts``. The connection goes to the very address that was
checked (the name is not resolved a second time, so a DNS answer that changes in between cannot
redirect it), and redirects are followed by hand so that each hop is checked the same way.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import urllib.parse
from typing import Callable, Iterable, NamedTuple

import certifi
import urllib3

MAX_REDIRECTS = 3
Resolver = Callable[[str], Iterable[str]]


class Result(NamedTuple):
    ok: bool
    status_code: int | None
    error: str | None


def resolve(host: str) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})


def public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def _address(url: str, allowed_hosts: frozenset[str],
             resolver: Resolver) -> tuple[str | None, str | None]:
    """(address to connect to, None) or (None, why the URL is refused)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return None, "not an http(s) URL"
    try:
        addresses = list(resolver(parsed.hostname))
    except (OSError, UnicodeError):
        return None, "host not found"
    if not addresses:
        return None, "host not found"
    if parsed.hostname not in allowed_hosts and not all(public_address(a) for a in addresses):
        return None, "not a public address"
    return addresses[0], None


def _request(method: str, url: str, address: str, timeout: float) -> urllib3.BaseHTTPResponse:
    parsed = urllib.parse.urlsplit(url)
    https = parsed.scheme == "https"
    port = parsed.port or (443 if https else 80)
    limits = urllib3.Timeout(connect=min(timeout, 5), read=timeout)
    if https:
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address, port, timeout=limits, retries=False, cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(), server_hostname=parsed.hostname,
            assert_hostname=parsed.hostname)
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=limits, retries=False)
    target = urllib.parse.urlunsplit(("", "", parsed.path or "/", parsed.query, ""))
    try:
        response = pool.urlopen(method, target, redirect=False, preload_content=False,
                                headers={"Host": parsed.netloc.rsplit("@", 1)[-1],
                                         "User-Agent": "yantai-portal-linkcheck/1"})
        response.drain_conn()
        return response
    finally:
        pool.close()


def check_url(url: str, *, allowed_hosts: frozenset[str] = frozenset(), timeout: float = 10,
              resolver: Resolver = resolve) -> Result:
    for _ in range(MAX_REDIRECTS + 1):
        address, refusal = _address(url, allowed_hosts, resolver)
        if refusal or address is None:
            return Result(False, None, refusal)
        try:
            resp = _request("HEAD", url, address, timeout)
            if resp.status in (403, 405, 501):  # servers that refuse HEAD
                resp = _request("GET", url, address, timeout)
        except urllib3.exceptions.HTTPError as exc:
            return Result(False, None, type(exc).__name__)
        location = resp.headers.get("location")
        if resp.status in (301, 302, 303, 307, 308) and location:
            url = urllib.parse.urljoin(url, location)
            continue
        return Result(resp.status < 400, resp.status,
                      None if resp.status < 400 else f"HTTP {resp.status}")
    return Result(False, None, "too many redirects")


def check_upload(path: str) -> Result:
    return Result(True, None, None) if os.path.isfile(path) else Result(False, None,
                                                                         "file missing")
