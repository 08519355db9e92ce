"""A department's 双公示 records through the pipeline: checked and kept (``store``), the public
ones published (``publish``), the changes pushed to 信用烟台 (``push``).

The one way in for records: ``yantai_disclosure_submit``, the files uploaded to a 双公示 resource
(``files``) and the harvested feeds (``harvest.disclosure_feed``) all submit them here, at most
``MAX_RECORDS`` at a time.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context

from ckanext.yantai import classified, config
from ckanext.yantai.disclosure import publish, push, store
from ckanext.yantai.guards import firewall

MAX_RECORDS = 5000  # per submission; larger files go in parts


def submit(context: Mapping[str, Any], resource_id: str | None, records: Any,
           now: dt.datetime | None = None) -> dict[str, Any]:
    """Take a department's records for a 双公示 resource (see ``yantai_disclosure_submit``).

    A record sent again (same document number and party) replaces the stored one; its
    first-public time stays.

    Raises:
        tk.ObjectNotFound: No such resource.
        tk.ValidationError: Not a 双公示 resource, or ``records`` is not a list of objects.
    """
    resource = model.Resource.get(resource_id or "")
    if resource is None or resource.state != "active":
        raise tk.ObjectNotFound(tk._("Resource not found"))
    record_type = store.record_type_of(resource)
    if record_type is None:
        raise tk.ValidationError({"resource_id": [tk._(
            "Not a disclosure resource: set its record type (行政许可 or 行政处罚) first")]})
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise tk.ValidationError({"records": [tk._("Give a list of records (JSON objects)")]})
    if len(records) > MAX_RECORDS:
        raise tk.ValidationError({"records": [tk._(
            "At most {limit} records per submission: send them in parts").format(
                limit=MAX_RECORDS)]})
    store.refuse_bad_shapes(records)
    marking = classified.records_rule(records)
    if marking is not None:  # the firewall holds for 双公示 records as for every other text
        firewall.refuse(cast(Context, dict(context)), {"records": marking},
                               resource.package_id,
                               resource.package.owner_org, object="disclosure")
    now = now or store.utcnow()
    rows, answers = store.store(resource, record_type, records, now=now,
                                calendar=config.calendar())
    publish.sync_datastore(resource.id, record_type, rows)
    push.plan_pushes(rows, now)
    model.Session.commit()
    push.enqueue_push()
    return {"resource_id": resource.id, "record_type": record_type, "received": len(records),
            "public": sum(1 for r in rows if r.public),
            "invalid": sum(1 for r in rows if not r.valid), "records": answers}
