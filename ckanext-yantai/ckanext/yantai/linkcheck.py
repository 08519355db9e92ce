"""Reachability of resources, for the metadata-quality score.

An uploaded file is reachable when the file store has it; a linked URL when it answers below 400.
Links go through ``netguard``: public addresses only (loopback, private, link-local and other
reserved addresses are refused, so that checks cannot probe the portal's own network) unless
``ckanext.yantai.linkcheck.allowed_hosts`` opens a host and port or a URL prefix, and never to the
portal's own services whatever it says. The connection goes to the addresses that were checked
(the name is not resolved a second time, so a DNS answer that changes in between cannot redirect
it), and redirects are followed by hand so that each hop is checked the same way.
"""
from __future__ import annotations

import os
from typing import NamedTuple

from ckanext.yantai import netguard
from ckanext.yantai.netguard import Resolver, resolve

# The reasons of a refusal as the quality score stores them.
_REASONS = {"url_scheme": "not an http(s) URL", "url_invalid": "not a valid URL",
            "host_invalid": "invalid host name", "host_not_found": "host not found",
            "address_not_public": "not a public address",
            "protected_service": "one of the portal's own services",
            "too_many_redirects": "too many redirects"}


class Result(NamedTuple):
    ok: bool
    status_code: int | None
    error: str | None


def check_url(url: str, *, policy: netguard.Policy = netguard.Policy(), timeout: float = 10,
              resolver: Resolver = resolve) -> Result:
    limits = {"policy": policy, "connect_timeout": min(timeout, 5),
              "read_timeout": timeout, "resolver": resolver}
    try:
        final, response = netguard.open_url("HEAD", url, **limits)
        if response.status in (403, 405, 501):  # servers that refuse HEAD
            netguard.close(response)
            final, response = netguard.open_url("GET", final, **limits)
    except netguard.Refused as refused:
        return Result(False, None, _REASONS.get(refused.code) or refused.params.get("error")
                      or refused.code)
    try:
        response.drain_conn()
    finally:
        netguard.close(response)
    return Result(response.status < 400, response.status,
                  None if response.status < 400 else f"HTTP {response.status}")


def check_upload(path: str) -> Result:
    return Result(True, None, None) if os.path.isfile(path) else Result(False, None,
                                                                         "file missing")
