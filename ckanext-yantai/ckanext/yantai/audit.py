"""The audit log: who did what to which dataset, and when (never the data or refused content)."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

import ckan.model as model
import sqlalchemy as sa

from ckanext.yantai.model import AuditEntry

log = logging.getLogger(__name__)

EVENTS = (
    "classified_refused", "access_request_created", "access_request_approved",
    "access_request_rejected", "access_request_revoked", "download", "datastore_read",
    "tier_change_proposed", "tier_change_approved", "tier_change_rejected", "tier_narrowed",
)


def record(event: str, actor: str | None, package_id: str | None = None,
           organization_id: str | None = None, resource_id: str | None = None,
           **detail: Any) -> None:
    """Write an entry in its own transaction, so that it stays when the action it records is
    refused and rolled back (a classified upload leaves this and nothing else)."""
    assert event in EVENTS, event
    with cast(sa.engine.Engine, model.meta.engine).begin() as conn:  # bound once CKAN is loaded
        conn.execute(sa.insert(AuditEntry.__table__).values(
            at=dt.datetime.utcnow(), actor=actor, event=event, package_id=package_id,
            organization_id=organization_id, resource_id=resource_id, detail=detail))
    log.info("audit %s by %s (dataset %s, department %s)%s", event, actor, package_id,
             organization_id, f" rule {detail['rule']}" if "rule" in detail else "")


def entries(organization_id: str | None = None, package_id: str | None = None,
            since: dt.datetime | None = None, until: dt.datetime | None = None) -> Any:
    """Entries, newest first (a query: count, limit and offset it)."""
    query = model.Session.query(AuditEntry)
    if organization_id is not None:
        query = query.filter(AuditEntry.organization_id == organization_id)
    if package_id is not None:
        query = query.filter(AuditEntry.package_id == package_id)
    if since is not None:
        query = query.filter(AuditEntry.at >= since)
    if until is not None:
        query = query.filter(AuditEntry.at < until)
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor,
            "event": entry.event, "package_id": entry.package_id,
            "resource_id": entry.resource_id, "organization_id": entry.organization_id,
            "detail": entry.detail}
