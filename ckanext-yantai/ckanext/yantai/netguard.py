"""The portal's outbound HTTP (link checks, harvesters): to public addresses only, bounded.

A URL is fetched only over http(s). Its host is normalised first (IDN to ASCII by UTS 46, lower
case, no trailing dot, the numeric IPv4 forms ``127.1``, ``2130706433`` and ``0x7f000001`` read as
the address they name), then resolved once; *every* address it resolves to must be public, or
match an allow-list entry, or the URL is refused (a mixed answer is how DNS rebinding hides an
internal address, so one bad address refuses the lot). IPv6 forms that carry an IPv4 address
(mapped, compatible, NAT64, 6to4, Teredo) are judged by that address too.

Allow-list entries name a host *and* a port (``127.0.0.1:8903``, ``[::1]:8903``,
``feeds.example.internal:80``) or a URL prefix (``http://127.0.0.1:8903/feeds/``): an entry never
opens a whole host or network (``parse_allow_list`` refuses bare hosts and networks).

Whatever the allow-list says, the portal's own services (``Policy.protected``: its Solr, Redis,
PostgreSQL, the portal itself, the credit receiver) are refused, decided here on the resolved
address and port: an address of this machine (loopback, unspecified, or one of its own interfaces)
counts as every other address of this machine, so ``127.0.0.2``, ``0.0.0.0`` or ``[::1]`` reach
nothing ``127.0.0.1:<port>`` would not.

The connection goes to the addresses that were checked (the name is not resolved a second time, so
a DNS answer that changes in between cannot redirect it; the next checked address is tried when one
cannot be connected), and redirects are followed by hand so that each hop is checked the same way.
Downloads have connect and read timeouts, an overall deadline and a size limit counted on the
decoded bytes (a compressed response cannot expand past it).

Refusals raise ``Refused`` with a code that ``messages.py`` turns into a sentence for users;
unacceptable allow-list entries raise ``ConfigError``.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import re
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, NamedTuple

import certifi
import idna
import urllib3

MAX_REDIRECTS = 3
USER_AGENT = "yantai-open-data-portal/1"
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Iterable[str]]
LocalCheck = Callable[[IPAddress], bool]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215, local use only
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated (RFC 4291)
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")


class Refused(Exception):
    """A URL the portal will not fetch, or a download it stopped.

    Attributes:
        code: ``url_scheme``, ``url_invalid``, ``host_invalid``, ``host_not_found``,
            ``address_not_public``, ``protected_service``, ``too_many_redirects``, ``too_large``,
            ``timeout``, ``http_status`` or ``network``.
        params: What the message names (host, limit, status…).
    """

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.code} ({details})" if details else self.code


class ConfigError(ValueError):
    """An allow-list entry the portal does not accept.

    Attributes:
        code: ``allow_no_port`` (a bare host or address), ``allow_network``, ``allow_ipv6``
            (an IPv6 address without brackets), ``allow_port``, ``allow_url`` (a prefix with
            another scheme, credentials, a query or dot segments) or ``allow_host``.
        entry: The entry as written.
    """

    def __init__(self, code: str, entry: str) -> None:
        super().__init__(code, entry)
        self.code = code
        self.entry = entry

    def __str__(self) -> str:
        return f"{self.code}: {self.entry!r}"


# -- hosts and addresses ------------------------------------------------------------------------

def normalize_host(host: str) -> str:
    """The form a host is compared, resolved and sent in: an IP literal in canonical form, a name
    in ASCII (IDNA by UTS 46), lower case, without its trailing dot.

    Raises:
        Refused: ``host_invalid`` for what is neither (an invalid IDN or A-label, a zone index,
            characters no host name has).
    """
    if ":" in host:  # only IPv6 literals have colons (urlsplit removed the brackets)
        try:
            ip = ipaddress.IPv6Address(host)
        except ValueError:
            raise Refused("host_invalid", host=host) from None
        if ip.scope_id:
            raise Refused("host_invalid", host=host)
        return str(ip)
    name = host[:-1] if host.endswith(".") else host
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            raise Refused("host_invalid", host=host) from None
    name = name.lower()
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise Refused("host_invalid", host=host)
    for label in labels:
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError, ValueError):
                raise Refused("host_invalid", host=host) from None
    if all(_NUMERIC_LABEL.fullmatch(label) for label in labels):
        # The forms inet_aton (and so getaddrinfo) reads as an IPv4 address.
        try:
            return str(ipaddress.IPv4Address(socket.inet_aton(name)))
        except OSError:
            raise Refused("host_invalid", host=host) from None
    return name


def ip_literal(host: str) -> IPAddress | None:
    """The address a normalised host is, when it is one."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo client)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def canonical(ip: IPAddress) -> IPAddress:
    """The address the kernel connects to: an IPv4-mapped IPv6 address is its IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _address(address: str | IPAddress) -> IPAddress:
    if isinstance(address, str):
        return ipaddress.ip_address(address.split("%", 1)[0])
    return address


def public_address(address: str | IPAddress) -> bool:
    """Whether an address is on the public internet: not loopback, private, link-local,
    site-local, unique-local, shared, reserved or multicast, and not an IPv6 form that carries
    such an IPv4 address."""
    ip = canonical(_address(address))
    if isinstance(ip, ipaddress.IPv4Address):
        return ip.is_global and not ip.is_multicast
    if ip in _NAT64:  # the NAT64 gateway connects to the IPv4 address inside
        return public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if (ip in _NAT64_LOCAL or ip in _IPV4_COMPATIBLE or ip.is_site_local or ip.is_multicast
            or ip.teredo is not None or ip not in _GLOBAL_UNICAST or not ip.is_global):
        return False
    inner = embedded_ipv4(ip)
    return inner is None or public_address(inner)


def local_address(ip: IPAddress) -> bool:
    """Whether an address is this machine's: loopback, unspecified, or one of its interfaces (a
    socket can be bound to it)."""
    ip = canonical(ip)
    if ip.is_loopback or ip.is_unspecified:
        return True
    family = socket.AF_INET if isinstance(ip, ipaddress.IPv4Address) else socket.AF_INET6
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(ip), 0))
        return True
    except OSError:
        return False


def resolve(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None,
                                                             type=socket.SOCK_STREAM)})


# -- the allow-list and the protected services --------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Endpoint:
    """A host (normalised: a name or an IP literal) and a port."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclasses.dataclass(frozen=True)
class AllowEntry:
    """What an admin opened: a host and port, or with ``scheme`` and ``path`` a URL prefix."""

    endpoint: Endpoint
    scheme: str | None = None
    path: str | None = None

    def __str__(self) -> str:
        if self.scheme is None:
            return str(self.endpoint)
        return f"{self.scheme}://{self.endpoint}{self.path}"


def _host_of_entry(host: str, entry: str) -> str:
    if "/" in host:
        raise ConfigError("allow_network", entry)
    try:
        return normalize_host(host)
    except Refused:
        raise ConfigError("allow_host", entry) from None


def _port_of_entry(port: str, entry: str) -> int:
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError("allow_port", entry)
    return int(port)


def parse_allow_entry(text: str) -> AllowEntry:
    """One allow-list entry: ``host:port``, ``[ipv6]:port`` or an http(s) URL prefix.

    Raises:
        ConfigError: A bare host or address, a network, an IPv6 address without brackets, a bad
            port, or a URL prefix with credentials, a query, a fragment or dot segments.
    """
    entry = text.strip()
    if "://" in entry:
        try:
            parts = urllib.parse.urlsplit(entry)
            url_port = parts.port
        except ValueError:
            raise ConfigError("allow_url", entry) from None
        if (parts.scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc
                or parts.query or parts.fragment or entry.endswith(("?", "#"))):
            raise ConfigError("allow_url", entry)
        path = parts.path or "/"
        if _dot_segments(path):
            raise ConfigError("allow_url", entry)
        host = _host_of_entry(parts.hostname, entry)
        return AllowEntry(Endpoint(host, url_port or DEFAULT_PORTS[parts.scheme]), parts.scheme,
                          urllib.parse.unquote(path))
    bracketed = re.fullmatch(r"\[([^\]]*)\](?::(.*))?", entry)
    if bracketed:
        host, port = bracketed.group(1), bracketed.group(2)
        if port is None:
            raise ConfigError("allow_no_port", entry)
        if "/" in host:
            raise ConfigError("allow_network", entry)
        if ip_literal(host.split("%", 1)[0]) is None or ":" not in host:
            raise ConfigError("allow_host", entry)
    elif entry.count(":") > 1:
        raise ConfigError("allow_network" if "/" in entry else "allow_ipv6", entry)
    elif ":" in entry:
        host, port = entry.split(":")
    else:
        raise ConfigError("allow_network" if "/" in entry else "allow_no_port", entry)
    return AllowEntry(Endpoint(_host_of_entry(host, entry), _port_of_entry(port, entry)))


def parse_allow_list(entries: Iterable[str]) -> tuple[AllowEntry, ...]:
    """Every entry parsed (see ``parse_allow_entry``); the first bad one raises ``ConfigError``."""
    return tuple(parse_allow_entry(entry) for entry in entries if entry.strip())


def endpoint_of_url(url: str, default_port: int | None = None) -> Endpoint | None:
    """The host and port a service URL names (``postgresql://u:p@db:5432/x``,
    ``redis://:p@127.0.0.1:6380/0``, ``http://127.0.0.1:8983/solr/ckan``); None without a host
    (a Unix socket) or a port."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port or default_port or DEFAULT_PORTS.get(parts.scheme)
        host = normalize_host(parts.hostname) if parts.hostname else None
    except (ValueError, Refused):
        return None
    return Endpoint(host, port) if host and port else None


@dataclasses.dataclass(frozen=True)
class Policy:
    """Where outbound requests may go.

    Attributes:
        allow: What an admin opened beyond the public internet.
        protected: Services never reached, whatever ``allow`` says.
        is_local: Whether an address is this machine's (injected by tests).
    """

    allow: tuple[AllowEntry, ...] = ()
    protected: tuple[Endpoint, ...] = ()
    is_local: LocalCheck = local_address

    def public_only(self) -> Policy:
        return dataclasses.replace(self, allow=())


def _dot_segments(path: str) -> bool:
    """Whether a path (percent-decoded) climbs or stays in place (``..``, ``.``) or uses ``\\``,
    which servers may resolve differently from a prefix comparison."""
    decoded = urllib.parse.unquote(path)
    return "\\" in decoded or any(s in (".", "..") for s in decoded.split("/"))


def _under(path: str, prefix: str) -> bool:
    decoded = urllib.parse.unquote(path or "/")
    if _dot_segments(path):
        return False
    return (decoded == prefix or decoded.startswith(prefix if prefix.endswith("/")
                                                    else prefix + "/"))


class Target(NamedTuple):
    """A checked URL: where to connect and what to send."""

    url: str
    scheme: str
    host: str  # normalised (ASCII)
    port: int
    addresses: tuple[str, ...]  # each one checked
    public: bool  # every address public (no allow-list entry needed)


def _allowed(entry: AllowEntry, scheme: str, host: str, port: int, path: str,
             ip: IPAddress) -> bool:
    if entry.endpoint.port != port or (entry.scheme is not None and entry.scheme != scheme):
        return False
    if entry.path is not None and not _under(path, entry.path):
        return False
    named = ip_literal(entry.endpoint.host)
    if named is None:
        return entry.endpoint.host == host
    return canonical(named) == canonical(ip)


def _identities(ip: IPAddress) -> set[IPAddress]:
    inner = embedded_ipv4(ip)
    return {canonical(ip), *([inner] if inner is not None else [])}


def _service_addresses(endpoint: Endpoint, resolver: Resolver) -> list[IPAddress]:
    literal = ip_literal(endpoint.host)
    if literal is not None:
        return [literal]
    try:  # a service name that does not resolve now cannot be connected to now either
        return [_address(a) for a in resolver(endpoint.host)]
    except (OSError, LookupError, UnicodeError, ValueError):
        return []


def protected_service(host: str, port: int, ip: IPAddress, policy: Policy,
                      resolver: Resolver = resolve) -> Endpoint | None:
    """The protected service that ``host``:``port`` at ``ip`` reaches, if any."""
    if not policy.protected:
        return None
    mine = _identities(ip)
    local = any(policy.is_local(a) for a in mine)
    for service in policy.protected:
        if service.port != port:
            continue
        if service.host == host:
            return service
        for address in _service_addresses(service, resolver):
            theirs = _identities(address)
            if mine & theirs or (local and any(policy.is_local(a) for a in theirs)):
                return service
    return None


def check(url: str, policy: Policy = Policy(), resolver: Resolver = resolve) -> Target:
    """Where ``url`` may be fetched: its host normalised and resolved, every address checked.

    Raises:
        Refused: Not http(s) (``url_scheme``) or malformed (``url_invalid``); an invalid host
            name (``host_invalid``); unknown (``host_not_found``); one of its addresses is not
            public and no allow-list entry opens it (``address_not_public``); one is a protected
            service (``protected_service``).
    """
    try:
        parsed = urllib.parse.urlsplit(url)
        port = parsed.port
    except ValueError:
        raise Refused("url_invalid", url=url) from None
    scheme = parsed.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parsed.hostname:
        raise Refused("url_scheme", url=url)
    port = port or DEFAULT_PORTS[scheme]
    host = normalize_host(parsed.hostname)
    if Endpoint(host, port) in policy.protected:  # by name: refused even when it won't resolve
        raise Refused("protected_service", host=host, port=str(port))
    literal = ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [_address(a) for a in resolver(host)]
        except (OSError, LookupError, UnicodeError, ValueError):
            raise Refused("host_not_found", host=host) from None
    if not addresses:
        raise Refused("host_not_found", host=host)
    everywhere_public = True
    for ip in addresses:
        service = protected_service(host, port, ip, policy, resolver)
        if service is not None:
            raise Refused("protected_service", host=host, port=str(port))
        if public_address(ip):
            continue
        everywhere_public = False
        if not any(_allowed(e, scheme, host, port, parsed.path, ip) for e in policy.allow):
            raise Refused("address_not_public", host=host, port=str(port))
    return Target(url, scheme, host, port, tuple(str(a) for a in addresses), everywhere_public)


def target_address(url: str, policy: Policy = Policy(), resolver: Resolver = resolve) -> str:
    """The first address ``url`` would be fetched from (see ``check``)."""
    return check(url, policy, resolver).addresses[0]


# -- requests -----------------------------------------------------------------------------------

def request(method: str, target: Target, address: str, *, connect_timeout: float,
            read_timeout: float, headers: dict[str, str] | None = None) -> Any:
    """One request to ``address`` for ``target`` (no redirect followed; the body not read)."""
    parsed = urllib.parse.urlsplit(target.url)
    https = target.scheme == "https"
    limits = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    if https:
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address, target.port, timeout=limits, retries=False, cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(), server_hostname=target.host, assert_hostname=target.host)
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=limits, retries=False)
    path = urllib.parse.urlunsplit(("", "", parsed.path or "/", parsed.query, ""))
    authority = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != DEFAULT_PORTS[target.scheme]:
        authority += f":{target.port}"
    try:
        response: Any = pool.urlopen(method, path, redirect=False, preload_content=False,
                                headers={"Host": authority, "User-Agent": USER_AGENT,
                                         **(headers or {})})
    except BaseException:
        pool.close()
        raise
    response._yantai_pool = pool  # closed with the response (see ``close``)
    return response


def close(response: Any) -> None:
    response.release_conn()
    pool = getattr(response, "_yantai_pool", None)
    if pool is not None:
        pool.close()


def _connect(method: str, target: Target, *, connect_timeout: float, read_timeout: float,
             headers: dict[str, str] | None) -> Any:
    """The response of the first checked address that accepts the connection."""
    for index, address in enumerate(target.addresses):
        last = index == len(target.addresses) - 1
        try:
            return request(method, target, address, connect_timeout=connect_timeout,
                           read_timeout=read_timeout, headers=headers)
        except (urllib3.exceptions.ConnectTimeoutError,
                urllib3.exceptions.NewConnectionError):
            if last:
                raise
    raise AssertionError("a target has at least one address")


def open_url(method: str, url: str, *, policy: Policy = Policy(),
             connect_timeout: float = 10, read_timeout: float = 30,
             resolver: Resolver = resolve,
             headers: dict[str, str] | None = None) -> tuple[str, Any]:
    """Follow up to ``MAX_REDIRECTS`` redirects, each hop checked; (final URL, response).

    Raises:
        Refused: See ``check``; ``too_many_redirects``; ``timeout`` and ``network`` when the
            server cannot be reached.
    """
    for hop in range(MAX_REDIRECTS + 1):
        target = check(url, policy, resolver)
        # The allow-list opens the named hosts to their own sources: a redirect from a public
        # server does not lead into them (any public URL could otherwise reach them).
        if hop == 0 and target.public:
            policy = policy.public_only()
        try:
            response = _connect(method, target, connect_timeout=connect_timeout,
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


def fetch(url: str, *, max_bytes: int, policy: Policy = Policy(),
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
    final, response = open_url("GET", url, policy=policy,
                               connect_timeout=connect_timeout, read_timeout=read_timeout,
                               resolver=resolver, headers=headers)
    try:
        content = b"".join(_body(final, response, max_bytes, started, deadline))
        return Download(final, content, response.headers.get("content-type") or "",
                        response.headers.get("etag"), response.headers.get("last-modified"))
    finally:
        close(response)


def download(url: str, target: BinaryIO, *, max_bytes: int, policy: Policy = Policy(),
             connect_timeout: float = 10, read_timeout: float = 30, deadline: float = 1800,
             resolver: Resolver = resolve) -> str:
    """GET ``url`` into ``target`` chunk by chunk (a file of any size within ``max_bytes``,
    never held in memory); the final URL. Raises as ``fetch``."""
    started = time.monotonic()
    final, response = open_url("GET", url, policy=policy, connect_timeout=connect_timeout,
                               read_timeout=read_timeout, resolver=resolver)
    try:
        for chunk in _body(final, response, max_bytes, started, deadline):
            target.write(chunk)
        return final
    finally:
        close(response)


def _body(final: str, response: Any, max_bytes: int, started: float,
          deadline: float) -> Iterator[bytes]:
    if response.status >= 400:
        raise Refused("http_status", url=final, status=str(response.status))
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise Refused("too_large", url=final, limit=_megabytes(max_bytes))
    size = 0
    try:
        for chunk in response.stream(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > max_bytes:
                raise Refused("too_large", url=final, limit=_megabytes(max_bytes))
            if time.monotonic() - started > deadline:
                raise Refused("timeout", url=final)
            yield chunk
    except urllib3.exceptions.ReadTimeoutError:
        raise Refused("timeout", url=final) from None
    except urllib3.exceptions.HTTPError as exc:
        raise Refused("network", url=final, error=type(exc).__name__) from None


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"
