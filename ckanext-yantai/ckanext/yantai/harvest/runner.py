"""Run one source's harvest in this process, stage by stage, through ckanext-harvest's own code.

What ``ckan yantai harvest run`` does (with a progress bar), and the demo and the tests with it:
the job is created and finished by ckanext-harvest's actions, gather and each object's fetch and
import go through ``ckanext.harvest.queue`` as the consumers would run them, so the job's counts
and report are the ones the harvest pages show. The queue consumers remain the way sources run
on their schedule.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context
from ckanext.harvest import queue
from ckanext.harvest.harvesters.base import HarvesterBase
from ckanext.harvest.logic import HarvestJobExists, HarvestSourceInactiveError
from ckanext.harvest.model import HarvestJob, HarvestObject

from ckanext.yantai.harvest.base import portal_language
from ckanext.yantai.messages import message

log = logging.getLogger(__name__)


class HarvestFailed(Exception):
    pass


def _context() -> Context:
    user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return {"model": model, "session": model.Session, "user": user, "ignore_auth": True}


def run(source: str, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Harvest ``source`` (id or name) now; returns the finished job (harvest_job_show).

    Args:
        progress: Called with (objects done, objects in all) after each object.

    Raises:
        HarvestFailed: The source is unknown or inactive, or a job of it is already running.
    """
    context = _context()
    try:
        source_dict = tk.get_action("harvest_source_show")(context.copy(), {"id": source})
        job_dict = tk.get_action("harvest_job_create")(context.copy(), {
            "source_id": source_dict["id"], "run": False})
    except tk.ObjectNotFound:
        raise HarvestFailed(f"no harvest source {source}") from None
    except (HarvestJobExists, HarvestSourceInactiveError) as error:
        raise HarvestFailed(str(error)) from None
    found = queue.get_harvester(source_dict["source_type"])
    if found is None:
        raise HarvestFailed(f"no harvester for source type {source_dict['source_type']}")
    harvester = cast(HarvesterBase, found)  # the portal's harvesters all extend HarvesterBase
    job = model.Session.get(HarvestJob, job_dict["id"])
    assert job is not None  # created just above
    job.status = "Running"  # pyright: ignore[reportAttributeAccessIssue]  # untyped harvest model
    job.save()
    try:
        ids = queue.gather_stage(harvester, job) or []
    except Exception as error:  # the consumer would die here: the job gets the error instead
        log.exception("gather of %s failed", source_dict["name"])
        with portal_language():
            text = message("harvest_internal", error=type(error).__name__)
        harvester._save_gather_error(text, job)
        ids = []
    for done, object_id in enumerate(ids, start=1):
        obj = model.Session.get(HarvestObject, object_id)
        try:
            queue.fetch_and_import_stages(harvester, obj)
        except Exception as error:
            log.exception("harvest object %s failed", object_id)
            model.Session.rollback()
            obj = model.Session.get(HarvestObject, object_id)
            assert obj is not None  # gathered (and committed) above
            with portal_language():
                text = message("harvest_internal", error=type(error).__name__)
            harvester._save_object_error(text, obj, "Import")
            obj.state, obj.report_status = "ERROR", "errored"  # pyright: ignore[reportAttributeAccessIssue]  # untyped harvest model
            obj.save()
        if progress:
            progress(done, len(ids))
    tk.get_action("harvest_jobs_run")(context.copy(), {"source_id": source_dict["id"]})
    return tk.get_action("harvest_job_show")(context.copy(), {"id": job_dict["id"]})


def report(job_id: str) -> dict[str, Any]:
    """The job's errors (harvest_job_report): gather errors and per-object errors."""
    return tk.get_action("harvest_job_report")(_context(), {"id": job_id})
