"""`ckan yantai …` commands for operators."""
from __future__ import annotations

import time
import uuid

import ckan.model as model
import ckan.plugins.toolkit as tk
import click
from ckan.lib.redis import connect_to_redis

from ckanext.yantai import jobs

__all__ = ["yantai"]


@click.group(short_help="烟台市公共数据开放网 operations")
def yantai() -> None:
    """Operations of the Yantai open-data portal."""


@yantai.command("check-worker")
@click.option("--queue", default="default", show_default=True, help="queue the worker listens to")
@click.option("--timeout", default=60.0, show_default=True, help="seconds to wait")
def check_worker(queue: str, timeout: float) -> None:
    """Enqueue a heartbeat job and wait until a background worker has run it."""
    token = uuid.uuid4().hex
    job = tk.enqueue_job(jobs.yantai_heartbeat, [token], queue=queue, title="worker heartbeat")
    redis = connect_to_redis()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = redis.get(jobs.heartbeat_key(token))
        if done:
            redis.delete(jobs.heartbeat_key(token))
            click.echo(f"worker ran job {job.id} at {done.decode()}")
            return
        time.sleep(0.2)
    job.delete()
    raise click.ClickException(f"no worker ran a job from queue {queue!r} within {timeout:.0f} s")


@yantai.command("init-domains")
def init_domains() -> None:
    """Create or update the policy-domain groups (idempotent)."""
    from ckanext.yantai import domains

    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    outcome = domains.ensure_groups(site_user)
    for name, what in outcome.items():
        click.echo(f"{what:9} group {name}")
    from ckan.lib import search

    relinked = domains.sync_all()
    for package_id in relinked:  # changed outside the actions: bring the index along
        search.rebuild(package_id)
    click.echo(f"{len(relinked)} datasets re-linked to their domain groups")


@yantai.command("refresh-quality")
@click.option("--batch", default=500, show_default=True, help="datasets read per search page")
def refresh_quality(batch: int) -> None:
    """Re-index the datasets whose quality changed since they were indexed.

    Freshness (更新超期) changes with time alone: run this daily.
    """
    import json

    from ckan.lib import search

    from ckanext.yantai import quality_index

    context = {"ignore_auth": True}
    start = total = changed = 0
    while True:
        page = tk.get_action("package_search")(dict(context), {
            "q": "*:*", "rows": batch, "start": start, "include_private": True,
            "include_drafts": True, "sort": "id asc",
            "fl": ["id", "quality_score", "quality_issues", "validated_data_dict"]})
        for hit in page["results"]:
            total += 1
            result = quality_index.assess(json.loads(hit["validated_data_dict"]))
            if (result.score, result.issues) != (hit.get("quality_score"),
                                                 hit.get("quality_issues") or []):
                search.rebuild(hit["id"])
                changed += 1
        start += batch
        if start >= page["count"]:
            break
    click.echo(f"{changed} of {total} datasets re-indexed")


@yantai.command("check-resources")
@click.argument("datasets", nargs=-1)
def check_resources(datasets: tuple[str, ...]) -> None:
    """Check the reachability of resources (all datasets, or those named) and update quality."""
    from ckanext.yantai import quality_index

    ids = list(datasets) or [
        row[0] for row in model.Session.query(model.Package.id).filter(
            model.Package.state == "active", model.Package.type == "dataset")]
    broken = 0
    for package_id in ids:
        for resource_id, result in quality_index.check_package(package_id).items():
            if not result.ok:
                broken += 1
                click.echo(f"unreachable {package_id} {resource_id}: {result.error}")
    click.echo(f"{len(ids)} datasets checked, {broken} resources unreachable")
