"""The policy domains (领域) as CKAN groups, kept in step with the datasets' ``domain`` field.

``domain`` is the source of truth: after a dataset is saved, its memberships of domain groups are
made to match it (other groups are left alone). The groups themselves are created idempotently by
``ckan yantai init-domains`` (run by make up) with Chinese titles and icons.
"""
from __future__ import annotations

import json
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context

from ckanext.yantai import config, vocabularies

# Stored content of each group (the portal's language first), not an interface string.
DESCRIPTION = "烟台市各部门和区市开放的{zh}领域政府数据。"
ICON_PATH = "/yantai/domains/{name}.svg"  # under the site URL (public/ of this extension)


def parse_domains(value: Any) -> list[str]:
    """The stored value (a JSON list, or a list when coming from a form) as a list of codes."""
    if not value:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = [value]
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def sync_groups(package: model.Package) -> None:
    """Make the package's domain-group memberships match its ``domain`` (in the open session)."""
    wanted = set(parse_domains(package.extras.get("domain"))) & vocabularies.values("domain")
    groups = {g.name: g for g in model.Session.query(model.Group).filter(
        model.Group.name.in_(vocabularies.values("domain")),
        model.Group.is_organization.is_(False), model.Group.state == "active")}
    members = {m.group_id: m for m in model.Session.query(model.Member).filter(
        model.Member.table_name == "package", model.Member.table_id == package.id,
        model.Member.group_id.in_([g.id for g in groups.values()]))}
    for name, group in groups.items():
        member = members.get(group.id)
        if name in wanted and (member is None or member.state != "active"):
            if member is None:
                model.Session.add(model.Member(table_name="package", table_id=package.id,
                                               group=group, capacity="public",
                                               state="active"))
            else:
                member.state = "active"
        elif name not in wanted and member is not None and member.state == "active":
            member.state = "deleted"


def ensure_groups(site_user: str) -> dict[str, str]:
    """Create or update a group per domain; return {name: "created"|"updated"|"unchanged"}."""
    context: Context = {"user": site_user, "ignore_auth": True}
    outcome: dict[str, str] = {}
    for term in vocabularies.DOMAINS:
        # An absolute URL: CKAN takes a relative image_url for an uploaded file's name.
        icon = config.site_url() + ICON_PATH.format(name=term.value)
        wanted = {"name": term.value, "title": term.zh, "image_url": icon,
                  "description": DESCRIPTION.format(zh=term.zh)}
        existing = model.Group.get(term.value)
        if existing is None:
            tk.get_action("group_create")(context.copy(), wanted)
            outcome[term.value] = "created"
        elif existing.state != "active" or any(
                getattr(existing, k) != v for k, v in wanted.items() if k != "name"):
            tk.get_action("group_patch")(context.copy(), {"id": existing.id, "state": "active",
                                                         **wanted})
            outcome[term.value] = "updated"
        else:
            outcome[term.value] = "unchanged"
    return outcome


def sync_all() -> list[str]:
    """Re-link every dataset to its domain groups (after groups were created or re-activated).
    Returns the ids of the datasets whose memberships changed."""
    changed = []
    packages = model.Session.query(model.Package).filter(
        model.Package.state == "active", model.Package.type == "dataset")
    for package in packages.all():
        sync_groups(package)
        if model.Session.new or any(isinstance(o, model.Member) for o in model.Session.dirty):
            changed.append(package.id)
            model.Session.flush()
    model.Session.commit()
    return changed
