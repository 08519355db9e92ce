"""The portal's outbound HTTP (link checks, harvesters): to public addresses only, bounded.

A URL is fetched only over http(s), from a host whose every address is public: loopback,
private, link-local, multicast and other reserved addresses are refused (no requests into the
portal's own network) unless an admin allow-lists the host, the address or its network. The
connection goes to the very address that was checked (the name is not resolved a second time, so
a DNS answer that changes in between cannot redirect it), and redirects are followed by hand so
that each hop is checked the same way. Downloads have connect and read timeouts, an overall
deadline and a size limit counted on the decoded bytes (a compressed response cannot expand past
it).

Refusals raise ``Refused`` with a code that ``messages.py`` turns into a sentence for users.
"""
from __future__ import annotations

import ipaddress
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import certifi
import urllib3

MAX_REDIRECTS = 3
USER_AGENT = "yantai-open-data-portal/1"
Resolver = Callable[[str], Iterable[str]]


class Refused(Exception):
    """A URL the portal will not fetch, or a download it stopped.

    Attributes:
        code: ``url_scheme``, ``host_not_found``, ``address_not_public``, ``too_many_redirects``,
            ``too_large``, ``timeout``, ``http_status`` or ``network``.
        params: What the message names (limit, status…).
    """

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.code} ({details})" if details else self.code


def resolve(host: str) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})


def public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def allowed(host: str, address: str, allow_list: Iterable[str]) -> bool:
    """Whether an admin allow-listed this host name, its address or a network holding it."""
    ip = ipaddress.ip_address(address)
    for entry in allow_list:
        if entry == host or entry == address:
            return True
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def target_address(url: str, allow_list: Iterable[str] = (),
                   resolver: Resolver = resolve) -> str:
    """The address to connect to for ``url``.

    Raises:
        Refused: Not http(s), the host is unknown, or one of its addresses is not public and
            not allow-listed.
    """
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise Refused("url_scheme", url=url)
    try:
        addresses = list(resolver(parsed.hostname))
    except (OSError, UnicodeError):
        raise Refused("host_not_found", host=parsed.hostname) from None
    if not addresses:
        raise Refused("host_not_found", host=parsed.hostname)
    allow_list = tuple(allow_list)
    for address in addresses:
        if not public_address(address) and not allowed(parsed.hostname, address, allow_list):
            raise Refused("address_not_public", host=parsed.hostname)
    return addresses[0]


def request(method: str, url: str, address: str, *, connect_timeout: float,
            read_timeout: float, headers: dict[str, str] | None = None) -> Any:
    """One request to ``address`` for ``url`` (no redirect followed; the body not read)."""
    parsed = urllib.parse.urlsplit(url)
    https = parsed.scheme == "https"
    port = parsed.port or (443 if https else 80)
    limits = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    if https:
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address, port, timeout=limits, retries=False, cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(), server_hostname=parsed.hostname,
            assert_hostname=parsed.hostname)
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=limits, retries=False)
    target = urllib.parse.urlunsplit(("", "", parsed.path or "/", parsed.query, ""))
    response = pool.urlopen(method, target, redirect=False, preload_content=False,
                            headers={"Host": parsed.netloc.rsplit("@", 1)[-1],
                                     "User-Agent": USER_AGENT, **(headers or {})})
    response._yantai_pool = pool  # closed with the response (see ``close``)
    return response


def close(response: Any) -> None:
    response.release_conn()
    pool = getattr(response, "_yantai_pool", None)
    if pool is not None:
        pool.close()


def open_url(method: str, url: str, *, allow_list: Iterable[str] = (),
             connect_timeout: float = 10, read_timeout: float = 30,
             resolver: Resolver = resolve,
             headers: dict[str, str] | None = None) -> tuple[str, Any]:
    """Follow up to ``MAX_REDIRECTS`` redirects, each hop checked; (final URL, response).

    Raises:
        Refused: See ``target_address``; ``too_many_redirects``; ``timeout`` and ``network``
            when the server cannot be reached.
    """
    allow_list = tuple(allow_list)
    for hop in range(MAX_REDIRECTS + 1):
        # The allow-list opens the named hosts to their own sources: a redirect from a public
        # server does not lead into them (any public URL could otherwise reach them).
        address = target_address(url, allow_list, resolver)
        if hop == 0 and public_address(address):
            allow_list = ()
        try:
            response = request(method, url, address, connect_timeout=connect_timeout,
                               read_timeout=read_timeout, headers=headers)
        except (urllib3.exceptions.ConnectTimeoutError,
                urllib3.exceptions.ReadTimeoutError):
            raise Refused("timeout", url=url) from None
        except urllib3.exceptions.HTTPError as exc:
            raise Refused("network", url=url, error=type(exc).__name__) from None
        location = response.headers.get("location")
        if response.status in (301, 302, 303, 307, 308) and location:
            close(response)
            url = urllib.parse.urljoin(url, location)
            continue
        return url, response
    raise Refused("too_many_redirects", url=url)


class Download(NamedTuple):
    url: str  # after redirects
    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None


def fetch(url: str, *, max_bytes: int, allow_list: Iterable[str] = (),
          connect_timeout: float = 10, read_timeout: float = 30, deadline: float = 300,
          resolver: Resolver = resolve, headers: dict[str, str] | None = None) -> Download:
    """GET ``url`` whole, within the limits.

    Args:
        max_bytes: The most the body may hold, decoded.
        deadline: Seconds the whole download may take (a server sending a byte now and then
            would otherwise keep it open for ever).

    Raises:
        Refused: See ``open_url``; ``http_status`` for an answer of 400 or more; ``too_large``
            and ``timeout`` when a limit is reached.
    """
    started = time.monotonic()
    final, response = open_url("GET", url, allow_list=allow_list,
                               connect_timeout=connect_timeout, read_timeout=read_timeout,
                               resolver=resolver, headers=headers)
    try:
        if response.status >= 400:
            raise Refused("http_status", url=final, status=str(response.status))
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise Refused("too_large", url=final, limit=_megabytes(max_bytes))
        chunks, size = [], 0
        try:
            for chunk in response.stream(64 * 1024, decode_content=True):
                size += len(chunk)
                if size > max_bytes:
                    raise Refused("too_large", url=final, limit=_megabytes(max_bytes))
                if time.monotonic() - started > deadline:
                    raise Refused("timeout", url=final)
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError:
            raise Refused("timeout", url=final) from None
        except urllib3.exceptions.HTTPError as exc:
            raise Refused("network", url=final, error=type(exc).__name__) from None
        return Download(final, b"".join(chunks),
                        response.headers.get("content-type") or "",
                        response.headers.get("etag"), response.headers.get("last-modified"))
    finally:
        close(response)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"
