"""What the portal's own harvesters share: reading a source safely, its config, its errors.

A source is an http(s) URL (fetched through ``netguard``: public addresses unless allow-listed,
timeouts, a size limit) or ``drop:<folder>``, a folder under the drop folder an admin configured
(``feedsafety.drop_folder``). Files a feed names are read relative to it, under the same rules.

Errors are stored as ckanext-harvest stores them (gather errors for the source as a whole, object
errors per record), in the portal's default language, Chinese: the harvest consumers run outside
any request, where CKAN would answer in English, so every stage runs in a request context of the
portal's own (``portal_language``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import urllib.parse
from collections.abc import Iterator
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import click
import flask
import sqlalchemy as sa
from ckan.types import Context
from ckanext.harvest.harvesters.base import HarvesterBase
from ckanext.harvest.model import HarvestJob, HarvestObject, HarvestObjectExtra

from ckanext.yantai import config, feedsafety, netguard
from ckanext.yantai.messages import message

log = logging.getLogger(__name__)

DROP_SCHEME = "drop:"


class SourceError(Exception):
    """A source or file that cannot be read: its message is for users (Chinese); ``status``
    the HTTP status when the server answered with an error."""

    status: int | None = None


def refusal_message(error: netguard.Refused | feedsafety.Unsafe) -> str:
    return message(f"harvest_{error.code}", **error.params)


def check_source_url(url: str) -> None:
    """A harvest source's URL as saved: http(s) to an allowed address, or a drop folder.

    Raises:
        SourceError: Why it is refused.
    """
    try:
        if url.startswith(DROP_SCHEME):
            feedsafety.drop_folder(config.harvest_drop_folder(), url[len(DROP_SCHEME):])
        else:
            netguard.check(url, config.harvest_policy())
    except (netguard.Refused, feedsafety.Unsafe) as error:
        raise SourceError(refusal_message(error)) from None


def drop_owner_problem(url: str, organization_id: str | None) -> str | None:
    """A drop folder belongs to one department: ``drop:<its URL name>[/<sub-folder>]``; None
    when ``url`` is no drop folder or is the department's own (else the message)."""
    if not url.startswith(DROP_SCHEME):
        return None
    organization = model.Group.get(organization_id) if organization_id else None
    first = url[len(DROP_SCHEME):].strip("/").split("/", 1)[0]
    if organization is None or first != organization.name:
        return message("harvest_drop_department",
                       folder=organization.name if organization else "-")
    return None


def read(url: str, name: str | None = None) -> tuple[bytes, str]:
    """A source's document (``name`` None) or a file it names (relative to it): (bytes, where).

    Raises:
        SourceError: Refused, unreachable, too large, or missing.
    """
    if url.startswith(DROP_SCHEME):
        limits = config.harvest_limits()
        try:
            folder = feedsafety.drop_folder(config.harvest_drop_folder(), url[len(DROP_SCHEME):])
            target = name or "manifest.json"
            return feedsafety.read_dropped(folder, target, int(limits["max_bytes"])), target
        except feedsafety.Unsafe as error:
            raise SourceError(refusal_message(error)) from None
    download = fetch(urllib.parse.urljoin(url, name) if name else url)
    return download.content, download.url


def fetch(url: str, headers: dict[str, str] | None = None,
          allow_list: tuple[str, ...] | None = None) -> netguard.Download:
    """An http(s) document, within the portal's limits (``ckanext.yantai.harvest.*``);
    ``allow_list`` in place of the configured one (``()``: public addresses only).

    Raises:
        SourceError: Refused, unreachable, too large, or an HTTP error.
    """
    limits = config.harvest_limits()
    policy = config.harvest_policy()
    if allow_list is not None:  # the portal's own services stay refused either way
        policy = dataclasses.replace(policy, allow=netguard.parse_allow_list(allow_list))
    try:
        return netguard.fetch(url, policy=policy,
                              max_bytes=int(limits["max_bytes"]),
                              connect_timeout=limits["connect_timeout"],
                              read_timeout=limits["read_timeout"],
                              deadline=limits["deadline"], headers=headers)
    except netguard.Refused as error:
        problem = SourceError(refusal_message(error))
        if error.code == "http_status":
            problem.status = int(error.params["status"])
        raise problem from None


@contextlib.contextmanager
def portal_language() -> Iterator[None]:
    """A request context of the running portal when there is none (harvest consumers, commands),
    so that messages and validation errors come in the portal's default language."""
    if flask.has_request_context():
        yield
        return
    click_context = click.get_current_context(silent=True)
    app = click_context.find_root().meta.get("flask_app") if click_context else None
    if app is None:
        yield
        return
    with app.test_request_context():
        yield


class FeedHarvester(HarvesterBase):
    """Base of the yantai_* harvesters; subclasses set the class attributes and the stages."""

    SOURCE_TYPE = ""
    TITLE = ""
    DESCRIPTION = ""
    # config key: (type, description); anything else in a source's config is refused
    CONFIG: dict[str, tuple[type, str]] = {}
    force_import = False  # set by harvest_objects_import before each object

    def __new__(cls, *args: Any, **kwargs: Any) -> FeedHarvester:
        # One instance per class: SingletonPlugin looks for ``_instance`` with hasattr, which
        # finds a parent's, so a harvester derived from a loaded one would be that one.
        if "_instance" not in cls.__dict__:
            cls._instance = object.__new__(cls)
        return cls._instance

    def info(self) -> dict[str, str]:
        return {"name": self.SOURCE_TYPE, "title": self.TITLE, "description": self.DESCRIPTION,
                "form_config_interface": "Text"}

    def validate_config(self, source_config: str | None) -> str | None:
        if not source_config or not source_config.strip():
            return source_config
        try:
            data = json.loads(source_config)
        except ValueError:
            raise ValueError(message("harvest_config_json")) from None
        if not isinstance(data, dict):
            raise ValueError(message("harvest_config_json"))
        for key, value in data.items():
            if key not in self.CONFIG:
                raise ValueError(message("harvest_config_unknown", key=key,
                                         keys="、".join(self.CONFIG) or "-"))
            kind = self.CONFIG[key][0]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ValueError(message("harvest_config_type", key=key,
                                         type=kind.__name__))
        self.check_config(data)
        return source_config

    def check_config(self, data: dict[str, Any]) -> None:
        """Further checks of a subclass (raise ValueError with a message)."""

    # -- the stages: subclasses implement gather, fetch and import_ ---------------------------

    def gather_stage(self, harvest_job: HarvestJob) -> list[str] | None:
        with portal_language():
            owner = model.Package.get(harvest_job.source.id)
            problem = drop_owner_problem(harvest_job.source.url, owner.owner_org if owner else None)
            if problem:
                self._save_gather_error(problem, harvest_job)
                return None
            try:
                return self.gather(harvest_job)
            except Exception as error:  # raised, it would stop the gather consumer for all
                log.exception("gather of source %s failed", harvest_job.source.id)
                model.Session.rollback()
                # The objects saved before it failed are not the whole source: none is imported
                # (``harvester run`` would send them to the fetch queue) and none withdraws.
                for obj in model.Session.query(HarvestObject).filter_by(
                        harvest_job_id=harvest_job.id):
                    model.Session.delete(obj)
                model.Session.commit()
                self._save_gather_error(message("harvest_internal",
                                                error=type(error).__name__), harvest_job)
                return None

    def fetch_stage(self, harvest_object: HarvestObject) -> bool | str:
        with portal_language():
            return self.fetch(harvest_object)

    def import_stage(self, harvest_object: HarvestObject) -> bool | str:
        # The queue may hand an object over twice: ``harvester run`` resubmits one whose import
        # took over three minutes, while the first consumer may still be at it. The second
        # waits for the first (a lock on the object, on a connection of its own: the session's
        # may change at each commit), then finds it imported and leaves the result as it is.
        # ``ckan harvester import`` (harvest_objects_import) sets ``force_import`` to import
        # current objects again.
        force, self.force_import = self.force_import, False
        lock = cast(sa.engine.Engine, model.meta.engine).connect()  # bound once CKAN is loaded
        try:
            lock.execute(sa.text("SELECT pg_advisory_lock(hashtext(:key))"),
                         {"key": f"yantai.harvest_object:{harvest_object.id}"})
            model.Session.refresh(harvest_object)  # as the other consumer may have left it
            if not force:
                if harvest_object.report_status in ("added", "updated", "deleted") \
                        or harvest_object.current:
                    return True
                if harvest_object.report_status == "not modified":
                    return "unchanged"
            with portal_language():
                return self._import_safely(harvest_object)
        finally:
            lock.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:key))"),
                         {"key": f"yantai.harvest_object:{harvest_object.id}"})
            lock.close()

    def _import_safely(self, harvest_object: HarvestObject) -> bool | str:
        try:
            return self.import_(harvest_object)
        except Exception as error:  # one record's failure stops neither the consumer nor
            log.exception("import of %s failed", harvest_object.guid)  # the others
            model.Session.rollback()
            self._save_object_error(message("harvest_internal", error=type(error).__name__),
                                    harvest_object, "Import")
            return False

    def gather(self, harvest_job: HarvestJob) -> list[str] | None:
        raise NotImplementedError

    def fetch(self, harvest_object: HarvestObject) -> bool | str:
        return True

    def import_(self, harvest_object: HarvestObject) -> bool | str:
        raise NotImplementedError

    # -- helpers for the stages ----------------------------------------------------------------

    @staticmethod
    def source_config(source: Any) -> dict[str, Any]:
        try:
            data = json.loads(source.config or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def source_organization(job: HarvestJob) -> model.Group | None:
        package = model.Package.get(job.source.id)
        return model.Group.get(package.owner_org) if package and package.owner_org else None

    def context(self) -> Context:
        return {"model": model, "session": model.Session, "user": self._get_user_name(),
                "ignore_auth": True}

    @staticmethod
    def current_objects(source_id: str) -> dict[str, HarvestObject]:
        """The source's current objects by guid (what its last harvests left in the portal)."""
        rows = (model.Session.query(HarvestObject)
                .filter(HarvestObject.harvest_source_id == source_id)
                .filter(HarvestObject.current == True)  # noqa: E712 (SQL)
                .all())
        return {row.guid: row for row in rows}

    @staticmethod
    def new_object(job: HarvestJob, guid: str, status: str, content: str | None = None,
                   package_id: str | None = None) -> str:
        obj = HarvestObject(guid=guid, job=job, content=content, package_id=package_id,
                            extras=[HarvestObjectExtra(key="status", value=status)])
        obj.save()
        return cast(str, obj.id)

    @staticmethod
    def status(obj: HarvestObject) -> str | None:
        for extra in obj.extras:
            if extra.key == "status":
                return extra.value
        return None

    @staticmethod
    def previous_current(obj: HarvestObject) -> HarvestObject | None:
        """What the last harvest of the same guid left current (not this object)."""
        return (model.Session.query(HarvestObject)
                .filter(HarvestObject.guid == obj.guid)
                .filter(HarvestObject.harvest_source_id == obj.harvest_source_id)
                .filter(HarvestObject.current == True)  # noqa: E712 (SQL)
                .filter(HarvestObject.id != obj.id)
                .first())

    @staticmethod
    def make_current(obj: HarvestObject, package_id: str | None, current: bool = True) -> None:
        """This object is now what the portal holds for its guid: the earlier ones are not."""
        (model.Session.query(HarvestObject)
         .filter(HarvestObject.guid == obj.guid)
         .filter(HarvestObject.harvest_source_id == obj.harvest_source_id)
         .filter(HarvestObject.id != obj.id)
         .filter(HarvestObject.current == True)  # noqa: E712 (SQL)
         .update({"current": False}, synchronize_session=False))
        obj.current = current  # pyright: ignore[reportAttributeAccessIssue]  # untyped harvest model
        obj.package_id = package_id  # pyright: ignore[reportAttributeAccessIssue]  # untyped harvest model
        obj.save()


def validation_message(error: tk.ValidationError) -> str:
    """A dataset's validation errors as one line: 字段: 原因；…"""
    parts = []
    for field, problems in (error.error_dict or {}).items():
        if isinstance(problems, list) and problems and isinstance(problems[0], dict):
            for index, nested in enumerate(problems):
                for key, texts in cast("dict[str, Any]", nested or {}).items():
                    parts.append(f"{field}[{index + 1}].{key}: {_join(texts)}")
        else:
            parts.append(f"{field}: {_join(problems)}")
    return "；".join(parts) or str(error)


def _join(texts: Any) -> str:
    if isinstance(texts, list):
        return "、".join(str(t) for t in texts)
    return str(texts)
