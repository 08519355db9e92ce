"""Web addresses users give for things outside the portal (an application's site), as public pages
link them. Pure rules: no CKAN imports; the portal never fetches these addresses.

An address is taken when it is an absolute ``http://`` or ``https://`` URL of a named host on the
public internet (not ``localhost``, a single-label intranet name or a private address), without a
user name or password, within ``URL_MAX`` characters, and free of what browsers read differently
from the parser here: spaces, control and invisible characters, quotes, angle brackets,
backslashes. Spaces and invisible characters around it are dropped. It is kept with its scheme in
lower case and its host in ASCII (IDNA), so that the link says where it goes.

Refusals raise ``BadLink`` with a code that ``messages.py`` turns into a sentence for users.
"""
from __future__ import annotations

import ipaddress
import re
import unicodedata
import urllib.parse

from ckanext.yantai import netguard

URL_MAX = 500
_SCHEME = re.compile(r"(https?)://", re.IGNORECASE)
_UNSAFE = frozenset('<>"`\\')


class BadLink(ValueError):
    """An address not linked.

    Attributes:
        code: ``link_length``, ``link_characters``, ``link_scheme``, ``link_credentials`` or
            ``link_host``.
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char)[0] == "C"


def trimmed(value: str) -> str:
    """The text without the spaces and invisible characters (zero-width spaces, controls) around
    it."""
    start, end = 0, len(value)
    while start < end and _invisible(value[start]):
        start += 1
    while end > start and _invisible(value[end - 1]):
        end -= 1
    return value[start:end]


# Names only a local network resolves: localhost (RFC 6761), mDNS's .local (RFC 6762), home.arpa
# (RFC 8375), .internal (reserved by ICANN for private use, 2024) and the customary .lan.
_LOCAL_SUFFIXES = (".localhost", ".local", ".home.arpa", ".internal", ".lan")


def _public_host(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        name = host.rstrip(".").lower()
        return "." in name and name != "localhost" and not (
            "." + name).endswith(_LOCAL_SUFFIXES)
    return netguard.public_address(ip)


def link(value: str) -> str:
    """The address as kept and linked.

    Raises:
        BadLink: for anything but a public http(s) address (see the module).
    """
    text = trimmed(value)
    if len(text) > URL_MAX:
        raise BadLink("link_length")
    if any(_invisible(char) or char in _UNSAFE for char in text):
        raise BadLink("link_characters")
    scheme = _SCHEME.match(text)
    if scheme is None:
        raise BadLink("link_scheme")
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
        hostname = parts.hostname
    except ValueError:
        raise BadLink("link_host") from None
    if "@" in parts.netloc:
        raise BadLink("link_credentials")
    try:
        host = netguard.normalize_host(hostname) if hostname else ""
    except netguard.Refused:
        raise BadLink("link_host") from None
    if not host or port == 0 or not _public_host(host):
        raise BadLink("link_host")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    kept = urllib.parse.urlunsplit((scheme.group(1).lower(), netloc, parts.path, parts.query,
                                    parts.fragment))
    if len(kept) > URL_MAX:
        raise BadLink("link_length")
    return kept
