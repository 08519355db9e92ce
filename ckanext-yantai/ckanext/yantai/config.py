"""The extension's settings: the only module that reads them (declared in config_declaration.yaml)."""
from __future__ import annotations

import ckan.plugins.toolkit as tk


def linkcheck_allowed_hosts() -> frozenset[str]:
    return frozenset(tk.config.get("ckanext.yantai.linkcheck.allowed_hosts") or [])


def linkcheck_timeout() -> int:
    return tk.config.get("ckanext.yantai.linkcheck.timeout")


def linkcheck_on_update() -> bool:
    return tk.config.get("ckanext.yantai.linkcheck.on_update")
