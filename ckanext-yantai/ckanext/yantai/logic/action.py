"""API actions of the portal (public contract; names start with yantai_)."""
from __future__ import annotations

import json
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict, ErrorDict

from ckanext.yantai import (
    access,
    access_requests,
    applications,
    audit,
    config,
    data_requests,
    params,
    quality_index,
    tier_changes,
    usage,
    vocabularies,
)
from ckanext.yantai.datastore import loader as datastore_loader
from ckanext.yantai.dcat import terms
from ckanext.yantai.disclosure import intake, lookup, report, standard, store, submission
from ckanext.yantai.logic import schema
from ckanext.yantai.messages import message


@tk.side_effect_free
def yantai_vocabulary_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The code lists of the catalogue metadata (开放类型, 共享类型, 更新周期, 所属领域, ...):
    every code with its Chinese and English labels and its concept URI (the SKOS schemes served
    at ``/def/``), and the EU vocabulary entry it corresponds to in DCAT where there is one.

    :param name: one code list, e.g. ``open_type`` (optional; all of them when not given)
    :returns: ``{name: {"title": {"zh", "en"}, "uri", "terms": [{"value", "zh", "en", "uri",
        "eu"?}]}}``
    """
    tk.check_access("yantai_vocabulary_list", context, data_dict)
    name = data_dict.get("name")
    if name is not None and (not isinstance(name, str) or name not in vocabularies.VOCABULARIES):
        raise tk.ValidationError({"name": [message(
            "not_in_vocabulary", choices="、".join(vocabularies.VOCABULARIES))]})
    names = [name] if name else list(vocabularies.VOCABULARIES)
    return {vocabulary: terms.as_dict(vocabulary) for vocabulary in names}


@tk.side_effect_free
def yantai_quality_summary(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Metadata quality per department: datasets, average score (0-100) and issue counts.

    :param organization: a department's name to report on only it (optional)
    :returns: ``[{"organization", "datasets", "average_score", "issues": {code: count}}]``,
        counting only the datasets the caller may see.
    """
    tk.check_access("yantai_quality_summary", context, data_dict)
    data = schema.validated(data_dict, schema.quality_summary(), context)
    return quality_index.department_summary(context.copy(), data.get("organization"))


def yantai_access_request_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Apply for the data of a 有条件开放 dataset (or, as a government user, of a dataset shared on
    conditions). The owning department decides within the working days configured as
    ``ckanext.yantai.access.review_workdays``.

    :param package_id: the dataset's id or name
    :param purpose: what the data is for (申请用途)
    :param intended_use: how it will be used (使用方式)
    :param applicant_organization: the applicant's organisation (申请单位)
    :param period_start: start of the period of use (exactly YYYY-MM-DD)
    :param period_end: end of the period of use (exactly YYYY-MM-DD; not in the past, at most
        10 years ahead)
    :param commitment_accepted: true: the applicant accepts the data security commitment
        (安全承诺书)
    :returns: the request (see ``yantai_access_request_show``)
    """
    tk.check_access("yantai_access_request_create", context, data_dict)
    return access_requests.create(context, data_dict)


def _check_queue_access(action: str, context: Context, data_dict: DataDict) -> None:
    """The list's auth function; a department's queue the caller may not follow is "not found"
    rather than forbidden, so that nobody learns which departments have queues."""
    try:
        tk.check_access(action, context, data_dict)
    except tk.NotAuthorized:
        user = context.get("auth_user_obj")
        if data_dict.get("organization") and user is not None and not user.is_anonymous:
            raise tk.ObjectNotFound(tk._("Organization not found")) from None
        raise


@tk.side_effect_free
def yantai_access_request_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """An access request, to its applicant, the owning department and the data authority.

    :param id: the request's id
    :returns: ``id, package_id, package_name, package_title, organization, user, kind (open |
        share), status (pending | approved | rejected | revoked | expired), purpose, intended_use,
        applicant_organization, period_start, period_end, created, review_deadline, overdue,
        calendar_missing, decided_by, decided_at, expires, expires_range (pending: the first and
        last day an approval may set as expiry, or null when none may), reason, revoked_at``
    """
    return access_requests.as_dict(access_requests.get_visible(context, data_dict.get("id")),
                                   access.context_viewer(context))


@tk.side_effect_free
def yantai_access_request_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Access requests, newest first: the caller's own; a department's queue with
    ``organization``; every department's with ``all`` (data authority reviewers, sysadmins).

    :param organization: a department's id or name (optional)
    :param all: true for every department (optional)
    :param package_id: only this dataset's (optional)
    :param status: pending, approved, rejected, revoked or expired (optional)
    :param overdue: true: only pending requests past their review deadline (optional)
    """
    _check_queue_access("yantai_access_request_list", context, data_dict)
    return access_requests.query(context, data_dict)


def yantai_access_request_decide(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Approve (with an expiry date) or reject (with a reason) a pending request; admins of the
    owning department.

    :param id: the request's id
    :param decision: ``approve`` or ``reject``
    :param expires: last day of access, exactly YYYY-MM-DD (approve): from today, within the
        period asked for, and at most ``ckanext.yantai.access.max_months`` months ahead. An
        expiry outside these limits is refused, not clamped.
    :param reason: the reason given to the applicant (required to reject)
    """
    return access_requests.decide(context, data_dict)  # 404 unless visible, then its auth


def yantai_access_request_revoke(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """End granted access now; admins of the owning department.

    :param id: the request's id
    :param reason: why (optional, shown to the applicant)
    """
    return access_requests.revoke(context, data_dict)  # 404 unless visible, then its auth


@tk.side_effect_free
def yantai_tier_change_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Proposals to make datasets more open, newest first: the caller's departments' (all for
    data authority reviewers and sysadmins).

    :param organization: a department's id or name (optional)
    :param package_id: one dataset's (optional)
    :param status: pending (default), approved, rejected or superseded; empty for all
    """
    _check_queue_access("yantai_tier_change_list", context, data_dict)
    return tier_changes.query(context, data_dict)


def yantai_tier_change_decide(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Approve or reject a proposal to make a dataset more open: a second person, an admin of the
    department or a data authority reviewer.

    :param id: the proposal's id
    :param decision: ``approve`` or ``reject``
    :param reason: optional
    """
    return tier_changes.decide(context, data_dict)  # 404 unless visible, then its auth


@tk.side_effect_free
def yantai_audit_log_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A department's audit log: access decisions, downloads of conditional and closed data,
    tier changes and refused classified content (who, what, when; never the content).

    :param organization: the department's id or name
    :param since: ISO date or datetime, inclusive (optional)
    :param until: ISO date or datetime, exclusive (optional)
    :param limit: at most this many entries (default 100, at most 1000)
    :param offset: skip this many (default 0)
    :returns: ``{"count": n, "results": [{id, at, actor, event, package_id, resource_id,
        organization_id, detail}]}``
    """
    organization = data_dict.get("organization")
    if not isinstance(organization, str) or not organization:
        raise tk.ValidationError({"organization": [tk._("Give the department's id or name")]})
    tk.check_access("yantai_audit_log_list", context, data_dict)
    org = model.Group.get(organization)
    if org is None or not org.is_organization:
        raise tk.ObjectNotFound(tk._("Organization not found"))
    data = schema.validated(data_dict, schema.audit_log_list(), context)
    bounds = {key: data[key] for key in ("since", "until") if key in data}
    limit, offset = data["limit"], data["offset"]
    query = audit.entries(organization_id=org.id, **bounds)
    return {"count": query.count(),
            "results": [audit.as_dict(e) for e in query.limit(limit).offset(offset)]}


@tk.side_effect_free
def yantai_compliance_check(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Check a 双公示 record against the rules, without storing anything. Anyone may call it to
    pre-check records before submitting them.

    :param record_type: ``license`` (行政许可) or ``penalty`` (行政处罚)
    :param record: the record: an object of the standard's fields (headers with the template's
        descriptions in brackets and 2016-era names are understood), or that object as JSON
    :param published_at: when the record went or goes online, ISO 8601 with its time zone
        (optional; default now)
    :returns: ``valid``, ``errors`` (``[{field, code, message}]``), ``warnings`` (columns the
        standard does not have), ``decision_date``, ``deadline`` (the 7th working day after the
        decision, or null), ``timeliness`` (on_time | late | pending | overdue |
        calendar_missing), ``working_days_late``, ``publish`` (allowed | not_for_publication |
        expired | revoked), ``publicity_end``, ``missing_year``
    """
    tk.check_access("yantai_compliance_check", context, data_dict)
    record_type, record = _record_type_and_record(data_dict)
    now = store.utcnow()
    published_at = now
    raw = data_dict.get("published_at")
    if raw not in (None, ""):
        published_at = params.aware_datetime(raw)
        if published_at is None:
            raise tk.ValidationError({"published_at": [tk._(
                "Give a date and time in ISO 8601 with its time zone, e.g. "
                "2026-09-29T10:00:00+08:00")]})
    result = intake.check(record_type, record, now=max(now, published_at),
                          calendar=config.calendar(), published_at=published_at)
    body = result.as_dict()
    body["errors"] = store.finding_dicts(body["errors"])
    return body


def _record_type_and_record(data_dict: DataDict) -> tuple[str, dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    record_type = data_dict.get("record_type")
    if record_type not in standard.RECORD_TYPES:
        errors["record_type"] = [tk._("Must be license (行政许可) or penalty (行政处罚)")]
    record = data_dict.get("record")
    if isinstance(record, str):
        try:
            record = json.loads(record)
        except (ValueError, RecursionError):
            record = None
    if not isinstance(record, dict) or not record or params.too_deep(record):
        errors["record"] = [tk._("Give the record as an object of its fields")]
    if errors:
        raise tk.ValidationError(cast(ErrorDict, errors))
    return cast(str, record_type), cast("dict[str, Any]", record)  # checked above


def yantai_disclosure_submit(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Send 双公示 records to a resource whose record type is 行政许可 or 行政处罚; editors of the
    department. Each record is checked and kept; the valid, publishable ones go online (the
    resource's DataStore table, personal data masked) and are pushed to 信用烟台. A record sent
    again (same document number and party) replaces the stored one and keeps its first-public
    time.

    :param resource_id: the resource's id
    :param records: a list of records (objects of the standard's fields), at most 5000
    :returns: ``received``, ``public``, ``invalid`` and per record ``{index, record_key, valid,
        errors, warnings, public, publish, timeliness, deadline, first_public_at}``
    """
    resource_id = data_dict.get("resource_id")
    if resource_id is not None and not isinstance(resource_id, str):  # (it reaches the database)
        raise tk.ValidationError({"resource_id": [tk._("Must be a resource id")]})
    tk.check_access("yantai_disclosure_submit", context, data_dict)
    return submission.submit(context, data_dict.get("resource_id"), data_dict.get("records"))


@tk.side_effect_free
def yantai_compliance_report(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """双公示 compliance per department for a period of decision months: department staff see
    their departments, the data authority and sysadmins every department.

    :param organization: one department's id or name (optional)
    :param start: first month, YYYY-MM (optional; default: eleven months before ``end``)
    :param end: last month, YYYY-MM (optional; default: the current month)
    :returns: ``{start, end, departments: [{organization, title, records, on_time, late,
        late_by_days: {"1", "2-3", "4-7", ">7"}, overdue, pending, calendar_missing, invalid,
        invalid_by_rule: {code: n}, push_failed, not_for_publication, expired, revoked, public,
        on_time_rate}], total: {…}}``; ``on_time_rate`` is on time / (on time + late +
        overdue), null when nothing was due
    """
    tk.check_access("yantai_compliance_report", context, data_dict)
    return report.report(context.get("user"), data_dict)


@tk.side_effect_free
def yantai_compliance_ranking(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Every department ranked by 双公示 on-time rate (government users).

    :param start: first month, YYYY-MM (optional)
    :param end: last month, YYYY-MM (optional)
    :returns: ``{start, end, departments: [{rank, organization, title, records, on_time, late,
        overdue, invalid, on_time_rate}]}``
    """
    tk.check_access("yantai_compliance_ranking", context, data_dict)
    return report.ranking(context.get("user"), data_dict)


@tk.side_effect_free
def yantai_compliance_trend(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """双公示 figures month by month, for one department or those the caller sees.

    :param organization: a department's id or name (optional)
    :param start: first month, YYYY-MM (optional)
    :param end: last month, YYYY-MM (optional)
    :returns: ``{organization, months: [{month, records, on_time, late, overdue, …,
        on_time_rate}]}``
    """
    tk.check_access("yantai_compliance_trend", context, data_dict)
    return report.trend(context.get("user"), data_dict)


@tk.side_effect_free
def yantai_compliance_records(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A department's 双公示 records with their findings (values masked), to find what fails.

    :param organization: the department's id or name
    :param timeliness: on_time, late, overdue, pending or calendar_missing (optional)
    :param late_days: 1, 2-3, 4-7 or >7 working days late (optional)
    :param error: only records with this error code, e.g. uscc_checksum (optional)
    :param valid: true or false (optional)
    :param publish: allowed, not_for_publication, expired or revoked (optional)
    :param push_status: pending, sent or failed (optional)
    :param record_type: license or penalty (optional)
    :param month: decision month, YYYY-MM (optional)
    :param limit: at most this many (default 50, at most 1000)
    :param offset: skip this many (default 0)
    :returns: ``{organization, count, results: [{record_key, record_type, resource_id,
        package_id, fields, valid, errors, warnings, decision_date, deadline, timeliness,
        working_days_late, publish, publicity_end, public, first_public_at, received_at,
        push_status}]}``
    """
    tk.check_access("yantai_compliance_records", context, data_dict)
    data = schema.validated(data_dict, schema.compliance_records(), context)
    return report.records(context.get("user"), data)


def yantai_datastore_submit(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Load a resource's table file into the DataStore again (after a correction in its Data
    Dictionary, or to retry a failed load), in the background.

    :param resource_id: the resource
    :returns: ``{resource_id, state}`` (``pending``)
    """
    resource_id = data_dict.get("resource_id")
    resource = model.Resource.get(resource_id) if isinstance(resource_id, str) else None
    # a resource of a dataset the caller may not know of answers as one that does not exist
    if resource is None or resource.state != "active" or not access.may_see(
            access.context_viewer(context), resource.package):
        raise tk.ObjectNotFound(tk._("Resource not found"))
    tk.check_access("yantai_datastore_submit", context, {"resource_id": resource.id})
    if datastore_loader.format_of(datastore_loader.facts(resource)) is None:
        raise tk.ValidationError({"resource_id": [tk._(
            "Only table files (CSV, TSV, XLSX, XLS, JSON) are loaded into the DataStore")]})
    datastore_loader.queue_reload(resource.id)
    return {"resource_id": resource.id, "state": datastore_loader.PENDING}


# Every yantai_ function is public (registered by the plugin's blankets).
@tk.side_effect_free
def yantai_credit_search(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """信用信息一站式查询: market entities (firms, 个体工商户) with public 双公示 records, found by
    a fragment of their name (two or more characters), their unified social credit code, or the
    number of one of their decisions; the same answer for everyone (public records only).

    A natural person is never listed or found by name: the exact document number of a decision
    finds its record (in ``documents``), masked as everywhere.

    :param q: a name fragment, an 18-character unified social credit code, or a decision
        document number (full-width, traditional characters and spaces are read as such)
    :param rows: entities per page (optional, default 20, at most 100)
    :param start: skip this many entities (optional, default 0)
    :returns: ``{"count", "count_capped", "results": [{"code", "name", "license_count",
        "penalty_count"}], "documents": [record]}``; ``count`` stops at 1000 (then
        ``count_capped`` is true)
    """
    tk.check_access("yantai_credit_search", context, data_dict)
    data = schema.validated(data_dict, schema.credit_search(), context)
    query = lookup.read_query(data.get("q", ""))
    return lookup.search(query, start=data["start"], rows=data["rows"])


@tk.side_effect_free
def yantai_credit_profile(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A market entity's public credit information from every department: its 行政许可 and
    行政处罚 records (public and masked, within their publicity periods), each with its dataset
    and department, and its rows in the other credit tables of the DataStore (those with a
    统一社会信用代码 column).

    :param id: the entity's unified social credit code
    :returns: ``{"code", "name", "license_count", "penalty_count", "records": [...],
        "tables": [{"dataset", "resource", "organization", "fields", "records", "total"}],
        "queried_at"}``
    """
    tk.check_access("yantai_credit_profile", context, data_dict)
    code = data_dict.get("id")
    if not isinstance(code, str) or not code.strip():
        raise tk.ValidationError({"id": [message("credit_code_missing")]})
    return lookup.profile(code)


def yantai_data_request_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Ask for data that is not published (数据需求) or report an error in a dataset (纠错);
    logged-in users. The department answers within the configured working days; the request
    and its answer are public, without who asked. The requester follows it.

    :param kind: ``request`` or ``correction``
    :param title: what data is asked for, or what is wrong (2 to 200 characters)
    :param description: the details (2 to 4000 characters)
    :param purpose: why the data is needed (required for a request; optional)
    :param organization: for a request, the department asked, by id or name (optional: the
        data authority otherwise)
    :param package_id: for a correction, the dataset with the error (optional for a request)
    :param resource_id: for a correction, the resource with the error (optional)
    :param created: when it was filed, for a request imported from an earlier system (optional;
        sysadmins only; an ISO 8601 date and time in the past)
    :param requester: who filed it, for an imported request (optional; sysadmins only)
    :returns: the request, as ``yantai_data_request_show`` gives it
    """
    tk.check_access("yantai_data_request_create", context, data_dict)
    return data_requests.create(context, data_dict)


@tk.side_effect_free
def yantai_data_request_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A data request or error report and its answer (public; who asked only to them, the
    department and the data authority).

    :param id: the request's id
    :returns: ``{id, kind, title, description, purpose, organization, package_name,
        resource_id, created, deadline, status (pending, answered, overdue), outcome, answer,
        answer_package_name, answered_at, followers, following, mine, can_answer}``
    """
    tk.check_access("yantai_data_request_show", context, data_dict)
    return data_requests.as_dict(data_requests.get(data_dict.get("id")),
                                 data_requests.viewer_of(context))


@tk.side_effect_free
def yantai_data_request_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Data requests and error reports, newest first (public).

    :param q: words of their title, description or answer (optional)
    :param kind: ``request`` or ``correction`` (optional)
    :param status: ``pending``, ``answered`` or ``overdue`` (optional)
    :param organization: the department asked, by id or name (optional)
    :param following: true for those the caller follows (optional; logged in)
    :param mine: true for those the caller filed (optional; logged in)
    :param limit: at most this many (optional, default 20, at most 100)
    :param offset: skip this many (optional, default 0)
    :returns: ``{"count", "results": [request]}``
    """
    tk.check_access("yantai_data_request_list", context, data_dict)
    data = schema.validated(data_dict, schema.data_request_list(), context)
    return data_requests.search(context, data)


def yantai_data_request_answer(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Answer a data request or error report for its department (its editors and admins, the
    data authority's reviewers, sysadmins); a later answer replaces it.

    :param id: the request's id
    :param outcome: for a request ``published``, ``planned``, ``not_held``, ``not_open`` or
        ``other``; for a correction ``fixed``, ``not_an_error`` or ``other``
    :param answer: the public answer (2 to 4000 characters)
    :param answer_package_id: for ``published``, the open dataset that answers it
    :returns: the request
    """
    tk.check_access("yantai_data_request_answer", context, data_dict)
    return data_requests.answer(context, data_dict)


def yantai_data_request_follow(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Follow a data request or error report (logged-in users).

    :param id: the request's id
    :returns: the request
    """
    tk.check_access("yantai_data_request_follow", context, data_dict)
    return data_requests.follow(context, data_dict, True)


def yantai_data_request_unfollow(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Stop following a data request or error report.

    :param id: the request's id
    :returns: the request
    """
    tk.check_access("yantai_data_request_follow", context, data_dict)
    return data_requests.follow(context, data_dict, False)


@tk.side_effect_free
def yantai_data_request_overdue(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Requests past their deadline without an answer, counted by department (public).

    :param organization: one department, by id or name (optional: every department)
    :returns: ``[{"organization", "organization_title", "overdue", "oldest_deadline"}]``
    """
    tk.check_access("yantai_data_request_list", context, data_dict)
    return data_requests.overdue_by_department(data_dict.get("organization"))


def yantai_application_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Submit an application built on the portal's data (数据应用): an app, a mini program, a
    website, an analysis or a service, with the datasets it uses; logged-in users. It is public
    once a reviewer approves it (the editors and admins of a department whose data it uses, the
    data authority's reviewers, sysadmins); who submitted it is never shown publicly.

    :param title: the application's name (2 to 100 characters)
    :param kind: ``app`` (移动应用), ``mini_program`` (小程序), ``website`` (网站), ``analysis``
        (分析报告) or ``service`` (数据服务)
    :param developer: who made it, as it is to be shown: an organisation or a person (2 to 100
        characters)
    :param url: its web address: http:// or https://, a site on the internet, without user name
        or password, at most 500 characters
    :param description: what it does and how it uses the data (10 to 4000 characters)
    :param datasets: the datasets it uses, 1 to 20, each one the caller may see: a list of ids,
        names or addresses of their pages, or text of them separated by line breaks, spaces or
        commas; repeats count once
    :param created: when it was submitted, for an application imported from an earlier system
        (optional; sysadmins only; an ISO 8601 date and time in the past)
    :param submitter: who submitted it, for an imported application (optional; sysadmins only)
    :returns: the application, as ``yantai_application_show`` gives it (``status``: pending)
    """
    tk.check_access("yantai_application_create", context, data_dict)
    return applications.create(context, data_dict)


@tk.side_effect_free
def yantai_application_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """An application: published ones to anyone; one awaiting review or rejected only to the one
    who submitted it and those who review it (to others it is not found, as an id that does not
    exist). The datasets listed are those the caller may see.

    :param id: the application's id
    :returns: ``{id, title, kind, kind_label, developer, url, description, datasets: [{name,
        title, organization_title}], created, status (pending, published, rejected),
        status_label, published_at, review_note, reviewed_at, submitter,
        submitter_display_name, mine, can_review, can_delete}``; the review note, its time and
        who submitted it only to the one who submitted it and its reviewers
    """
    return applications.as_dict(applications.get_visible(context, data_dict.get("id")),
                                applications.viewer_of(context))


@tk.side_effect_free
def yantai_application_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Applications, newest first: the published ones (public); with ``status`` pending or
    rejected, those the caller submitted or reviews (a review queue); with ``mine``, the
    caller's own.

    :param q: words of their title, description or developer (optional)
    :param kind: ``app``, ``mini_program``, ``website``, ``analysis`` or ``service`` (optional)
    :param dataset: only those using this dataset, by id or name (optional)
    :param organization: only those using a dataset of this department, by id or name
        (optional)
    :param status: ``published`` (default), ``pending`` or ``rejected`` (optional)
    :param mine: true for those the caller submitted, in every status unless ``status`` is given
        (optional; logged in)
    :param limit: at most this many (optional, default 20, at most 100)
    :param offset: skip this many (optional, default 0)
    :param page: the page of ``limit`` applications, from 1 (optional, instead of ``offset``)
    :returns: ``{"count", "results": [application]}``
    """
    tk.check_access("yantai_application_list", context, data_dict)
    data = schema.validated(data_dict, schema.application_list(), context)
    return applications.search(context, data)


def yantai_application_review(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Approve an application (it is then public) or reject it with a note for the one who
    submitted it; a later review replaces it. Editors and admins of a department whose data it
    uses, the data authority's reviewers, sysadmins; never the one who submitted it.

    :param id: the application's id
    :param decision: ``approve`` or ``reject``
    :param note: the note to the one who submitted it (2 to 2000 characters; required to
        reject)
    :returns: the application
    """
    return applications.review(context, data_dict)  # 404 unless visible, then its auth


def yantai_application_delete(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Delete an application: the one who submitted it while it awaits review, or its
    reviewers (at any time).

    :param id: the application's id
    :returns: ``{"id"}`` of the deleted application
    """
    return applications.delete(context, data_dict)  # 404 unless visible, then its auth

@tk.side_effect_free
def yantai_usage_statistics(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Usage statistics (数据使用统计) of a month: views, downloads and API calls in all, per
    department, per domain and per dataset (most viewed first), with the monthly trend. Crawlers
    are not counted and no visitor is identified. Counted are the datasets the public may find;
    a department's members (and the data authority) asking about their department get all its
    datasets.

    :param month: ``YYYY-MM`` (optional, default this month; not in the future)
    :param organization: a department's name or id (optional): only its datasets
    :param dataset: a dataset's name or id (optional): only its totals and this month's
        figures, as ``{"total": {...}, "month": {...}}``
    :returns: ``{"month", "total": {"views", "downloads", "api_calls"}, "departments": [...],
        "domains": [...], "datasets": [...], "trend": [{"month", "views", "downloads",
        "api_calls"}], "scope": "public" | "department"}``
    """
    tk.check_access("yantai_usage_statistics", context, data_dict)
    return usage.statistics(context, data_dict)


def yantai_usage_import(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Sets the usage figures of past days, as a sysadmin imports them from an earlier portal's
    statistics (the days keep them: the daily roll-up re-sums only days with recorded views).

    :param rows: a list (at most 10,000) of ``{"day": "YYYY-MM-DD" (before today), "dataset":
        name or id, "views", "downloads", "api_calls": whole numbers from 0}``
    :returns: ``{"imported": number of rows}``
    """
    tk.check_access("yantai_usage_import", context, data_dict)
    return {"imported": usage.import_rows(data_dict.get("rows"))}


__all__ = [name for name in dir() if name.startswith("yantai_")]
