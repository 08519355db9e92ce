"""The extension's settings: the only module that reads them (declared in config_declaration.yaml)."""
from __future__ import annotations

import ckan.plugins.toolkit as tk


def linkcheck_allowed_hosts() -> frozenset[str]:
    return frozenset(tk.config.get("ckanext.yantai.linkcheck.allowed_hosts") or [])


def linkcheck_timeout() -> int:
    return tk.config.get("ckanext.yantai.linkcheck.timeout")


def linkcheck_on_update() -> bool:
    return tk.config.get("ckanext.yantai.linkcheck.on_update")


def access_authority_org() -> str:
    return tk.config.get("ckanext.yantai.access.authority_org")


def access_review_workdays() -> int:
    return tk.config.get("ckanext.yantai.access.review_workdays")


def access_max_months() -> int:
    return tk.config.get("ckanext.yantai.access.max_months")


def calendar_path() -> str | None:
    """A working-day table whose years replace or extend the shipped one (None: shipped only)."""
    return tk.config.get("ckanext.yantai.calendar.path") or None


def credit_endpoint() -> str | None:
    """The credit site's receiving service (None: pushes wait until it is configured)."""
    return tk.config.get("ckanext.yantai.credit.endpoint") or None


def credit_token() -> str | None:
    return tk.config.get("ckanext.yantai.credit.token") or None


def credit_timeout() -> int:
    return tk.config.get("ckanext.yantai.credit.timeout")


def credit_attempts() -> int:
    return tk.config.get("ckanext.yantai.credit.attempts")


def harvest_allowed_hosts() -> frozenset[str]:
    return frozenset(tk.config.get("ckanext.yantai.harvest.allowed_hosts") or [])


def harvest_limits() -> dict[str, float]:
    """The bounds of every download a harvester makes (``netguard.fetch``'s arguments)."""
    return {"max_bytes": tk.config.get("ckanext.yantai.harvest.max_bytes"),
            "connect_timeout": tk.config.get("ckanext.yantai.harvest.connect_timeout"),
            "read_timeout": tk.config.get("ckanext.yantai.harvest.read_timeout"),
            "deadline": tk.config.get("ckanext.yantai.harvest.deadline")}


def harvest_drop_folder() -> str | None:
    return tk.config.get("ckanext.yantai.harvest.drop_folder") or None
