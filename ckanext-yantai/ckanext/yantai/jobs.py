"""Background jobs of the portal, run by `ckan jobs worker`."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib.redis import connect_to_redis
from sqlalchemy import event

from ckanext.yantai import config, quality_index
from ckanext.yantai.disclosure import push

log = logging.getLogger(__name__)

HEARTBEAT_TTL = 3600


def enqueue_resource_check(pkg_dict: dict[str, Any]) -> None:
    """After a dataset changed: check its resources in the background (if configured).

    Enqueued when the transaction commits, so that the worker sees the saved dataset. The
    dataset is saved by then: a queue that cannot take the job (Redis down) must not turn the
    saved change into an error; the daily ``ckan yantai check-resources`` checks it instead.
    """
    if not (config.linkcheck_on_update() and pkg_dict.get("id") and pkg_dict.get("resources")):
        return
    package_id = pkg_dict["id"]
    title = f"check resources of {pkg_dict.get('name') or pkg_dict['id']}"

    def enqueue(_session: Any) -> None:
        try:
            tk.enqueue_job(yantai_check_resources, [package_id], title=title)
        except Exception:  # noqa: BLE001 — any queue failure, after the commit
            log.warning("could not enqueue the resource check of dataset %s; the daily "
                        "check-resources run will check it", package_id, exc_info=True)

    event.listen(model.Session(), "after_commit", enqueue, once=True)


def heartbeat_key(token: str) -> str:
    return f"{config.site_id()}:yantai:worker-heartbeat:{token}"


def yantai_heartbeat(token: str) -> str:
    """Record that a worker picked up and ran a job; `ckan yantai check-worker` waits for it."""
    now = dt.datetime.now(dt.UTC).isoformat()
    connect_to_redis().set(heartbeat_key(token), now, ex=HEARTBEAT_TTL)
    return now


def yantai_check_resources(package_id: str) -> dict[str, bool]:
    """Check a dataset's resources (reachability, for its quality score)."""
    try:
        results = quality_index.check_package(package_id)
    except tk.ObjectNotFound:  # deleted since
        return {}
    return {rid: r.ok for rid, r in results.items()}


def yantai_credit_push() -> dict[str, int]:
    """Send the due 双公示 pushes to 信用烟台 (filed when records arrive or change)."""
    return push.send_due()
