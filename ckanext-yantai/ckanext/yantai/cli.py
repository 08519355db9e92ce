"""`ckan yantai …` commands for operators."""
from __future__ import annotations

import json
import time
import uuid
from typing import cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import click
from ckan.lib import search
from ckan.lib.redis import connect_to_redis
from ckan.types import Context
from ckanext.datastore.backend.postgres import get_write_engine

from ckanext.yantai import config, domains, jobs, quality_index
from ckanext.yantai.datastore import loader as datastore_loader
from ckanext.yantai.datastore import search as datastore_search
from ckanext.yantai.disclosure import publish, recheck
from ckanext.yantai.disclosure import push as pushes  # `push` is the recheck's option
from ckanext.yantai.disclosure import report as reports
from ckanext.yantai.harvest import registry as sources
from ckanext.yantai.harvest import runner
from ckanext.yantai.model import DisclosureRecord

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
        done = cast("bytes | None", redis.get(jobs.heartbeat_key(token)))  # a synchronous client
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
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    outcome = domains.ensure_groups(site_user)
    for name, what in outcome.items():
        click.echo(f"{what:9} group {name}")

    relinked = domains.sync_all()
    for package_id in relinked:  # changed outside the actions: bring the index along
        search.rebuild(package_id)
    click.echo(f"{len(relinked)} datasets re-linked to their domain groups")


@yantai.command("datastore-init")
def datastore_init() -> None:
    """Install Chinese search in the DataStore database (after `ckan datastore set-permissions`,
    which resets the full-text trigger to CKAN's own). Idempotent."""
    datastore_search.install(get_write_engine())
    click.echo("DataStore: Chinese full-text search installed")
    # 双公示 tables made before their columns were typed
    tables = model.Session.query(DisclosureRecord.resource_id, DisclosureRecord.record_type
                                 ).distinct().all()
    retyped = [resource_id for resource_id, record_type in tables
               if publish.retype(resource_id, record_type)]
    if retyped:
        click.echo(f"DataStore: {len(retyped)} 双公示 table(s) rebuilt with typed columns")


@yantai.command("datastore-load")
@click.argument("resources", nargs=-1)
@click.option("--all", "every", is_flag=True, help="every table file of the catalogue")
@click.option("--pending", is_flag=True,
              help="table files never loaded, or whose load was noted but not queued")
@click.option("--sync", is_flag=True, help="load here, one after another, not by the workers")
@click.option("--wait", type=float, default=0,
              help="seconds to wait for the workers to finish these loads")
def datastore_load(resources: tuple[str, ...], every: bool, pending: bool, sync: bool,
                   wait: float) -> None:
    """Load table files (CSV, TSV, XLSX, XLS, JSON) into the DataStore."""
    targets = list(resources)
    running: list[str] = []  # waited for, not queued again
    if every or pending:
        for res in model.Session.query(model.Resource).join(model.Package).filter(
                model.Resource.state == "active", model.Package.state == "active"):
            if datastore_loader.format_of(datastore_loader.facts(res)) is None:
                continue
            state = (datastore_loader.status(res.id) or {}).get("state")
            if every or state in (None, datastore_loader.PENDING):
                targets.append(res.id)
            elif state == datastore_loader.RUNNING:
                running.append(res.id)
    failed = 0
    for resource_id in targets:
        if sync:
            outcome = datastore_loader.yantai_datastore_load(resource_id, force=every)
            click.echo(f"{outcome['state']} {resource_id} {outcome.get('rows', '')}".rstrip())
            failed += outcome["state"] == datastore_loader.ERROR
        else:
            datastore_loader.submit(resource_id, force=every)
    if not sync:
        click.echo(f"queued {len(targets)} load(s)")
    waited = targets + running
    deadline = time.monotonic() + wait
    while not sync and wait and waited:
        model.Session.expire_all()
        states = {r: (datastore_loader.status(r) or {}).get("state") for r in waited}
        if all(state in (datastore_loader.COMPLETE, datastore_loader.ERROR)
               for state in states.values()):
            failed = sum(state == datastore_loader.ERROR for state in states.values())
            click.echo(f"loaded {len(waited) - failed}, failed {failed}")
            break
        if time.monotonic() > deadline:
            raise click.ClickException(f"loads not finished after {wait:g} s: " + ", ".join(
                r for r, state in states.items() if state not in ("complete", "error")))
        time.sleep(1)
    if failed:
        raise click.ClickException(f"{failed} table file(s) not loaded (see their resource pages)")


@yantai.command("refresh-quality")
@click.option("--batch", default=500, show_default=True, help="datasets read per search page")
def refresh_quality(batch: int) -> None:
    """Re-index the datasets whose quality changed since they were indexed.

    Freshness (更新超期) changes with time alone: run this daily.
    """

    context: Context = {"ignore_auth": True}
    start = total = changed = 0
    while True:
        page = tk.get_action("package_search")(context.copy(), {
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


@yantai.group("compliance", short_help="双公示: rechecks, pushes to 信用烟台, reports")
def compliance_group() -> None:
    """双公示 (administrative licensing and penalty) disclosure compliance."""


@compliance_group.command("recheck")
@click.option("--organization", help="only this department's records (name or id)")
@click.option("--workers", type=int, help="processes checking records (default: the CPUs)")
@click.option("--push/--no-push", default=True, show_default=True,
              help="send the pushes that are due afterwards")
def compliance_recheck(organization: str | None, workers: int | None, push: bool) -> None:
    """Check every stored record again (run daily): overdue records, ended publicity periods,
    years added to the working-day calendar. Records that reach or leave the public are synced
    and pushed."""
    org_id = _organization_id(organization)
    query = model.Session.query(DisclosureRecord)
    if org_id:
        query = query.filter(DisclosureRecord.organization_id == org_id)
    started = time.monotonic()
    with click.progressbar(length=query.count(), label="checking 双公示 records",
                           show_pos=True, file=click.get_text_stream("stderr")) as bar:
        counts = recheck.recheck(organization_id=org_id, workers=workers, progress=bar.update)
    click.echo(f"{counts['checked']} records checked in {time.monotonic() - started:.1f} s: "
               f"{counts['changed']} changed, {counts['published']} went online, "
               f"{counts['withdrawn']} withdrawn")
    if push:
        _send_pushes()


@compliance_group.command("push")
def compliance_push() -> None:
    """Send the pushes to 信用烟台 that are due (new, changed and withdrawn records; retries)."""
    _send_pushes()


def _send_pushes() -> None:
    if config.credit_endpoint() is None:
        click.echo("ckanext.yantai.credit.endpoint is not set: pushes wait")
        return
    counts = pushes.send_due()
    click.echo(f"pushes: {counts['sent']} sent, {counts['failed']} failed (retried later), "
               f"{counts['rejected']} rejected")


@compliance_group.command("report")
@click.option("--organization", help="one department (name or id)")
@click.option("--start", help="first decision month, YYYY-MM")
@click.option("--end", help="last decision month, YYYY-MM")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx"]), default="table",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="file to write (csv, xlsx); default: standard output for csv")
def compliance_report(organization: str | None, start: str | None, end: str | None, fmt: str,
                      output: str | None) -> None:
    """Figures per department: records, on time, late, overdue, invalid, push failures."""
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    try:
        body = reports.report(site_user, {"organization": organization, "start": start,
                                          "end": end})
    except (tk.ValidationError, tk.ObjectNotFound) as error:
        raise click.ClickException(str(error)) from None
    rows = reports.report_rows(body)
    if fmt == "xlsx":
        if not output:
            raise click.UsageError("--format xlsx needs --output")
        with open(output, "wb") as f:
            f.write(reports.to_xlsx(rows, f"双公示 {body['start']}至{body['end']}"))
    elif fmt == "csv":
        data = reports.to_csv(rows)
        if output:
            with open(output, "wb") as f:
                f.write(data)
        else:
            click.get_binary_stream("stdout").write(data)
    else:
        click.echo(f"{body['start']} – {body['end']}")
        for row in rows:
            click.echo("\t".join("" if v is None else str(v) for v in row))


def _organization_id(name_or_id: str | None) -> str | None:
    if not name_or_id:
        return None
    org = model.Group.get(name_or_id)
    if org is None or not org.is_organization:
        raise click.BadParameter(f"no department {name_or_id!r}", param_hint="--organization")
    return org.id


@yantai.group("harvest", short_help="harvest sources: load the registry, run a source now")
def harvest_group() -> None:
    """Harvest sources of departments and district portals (ckanext-harvest)."""


@harvest_group.command("load")
@click.argument("registry", type=click.Path(exists=True, dir_okay=False),
                default="harvesters/registry.yaml")
def harvest_load(registry: str) -> None:
    """Create or update the harvest sources a registry declares (idempotent)."""
    try:
        outcome = sources.load(registry)
    except sources.RegistryError as error:
        raise click.ClickException(str(error)) from None
    for name, what in outcome:
        click.echo(f"{what:9} {name}")
    if any(what.startswith("error") for _, what in outcome):
        raise click.ClickException("some sources could not be loaded")


@harvest_group.command("run")
@click.argument("sources", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="exit with an error when a record failed too")
def harvest_run(sources: tuple[str, ...], strict: bool) -> None:
    """Harvest SOURCES (names or ids) now, in this process, one after the other; a source that
    fails does not stop the others. Exits with an error when a source could not be harvested."""
    failed = False
    for source in sources:
        started = time.monotonic()
        with click.progressbar(length=0, label=f"harvesting {source}", show_pos=True,
                               file=click.get_text_stream("stderr")) as bar:
            def progress(done: int, total: int) -> None:
                bar.length = total
                bar.update(1)

            try:
                job = runner.run(source, progress)
            except runner.HarvestFailed as error:
                click.echo(f"{source}: {error}", err=True)
                failed = True
                continue
        stats = job["stats"]
        elapsed = time.monotonic() - started
        click.echo(f"{source}: {stats.get('added', 0)} added, {stats.get('updated', 0)} updated, "
                   f"{stats.get('not modified', 0)} not modified, {stats.get('deleted', 0)} "
                   f"withdrawn, {stats.get('errored', 0)} errors in {elapsed:.1f} s")
        report = runner.report(job["id"])
        for error in report["gather_errors"]:
            click.echo(f"  {error['message']}")
        for obj in report["object_errors"].values():
            for error in obj["errors"]:
                click.echo(f"  {obj['guid']}: {error['message']}")
        failed = failed or (strict and bool(stats.get("errored")))
    if failed:
        raise click.ClickException("some sources failed or reported errors")
