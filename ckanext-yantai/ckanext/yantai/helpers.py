"""Template helpers (registered by the plugin as h.yantai_*)."""
from __future__ import annotations

import datetime
import json
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib.i18n import get_lang
from markupsafe import Markup

from ckanext.yantai import (
    access,
    access_requests,
    config,
    editor_dashboard,
    home,
    messages,
    quality,
    quality_index,
    tier_changes,
    tiers,
    vocabularies,
)
from ckanext.yantai.datastore import columns
from ckanext.yantai.datastore import loader as datastore_loader
from ckanext.yantai.model import AccessRequest


def yantai_vocabulary_choices(field: dict[str, Any]) -> list[dict[str, Any]]:
    """Scheming ``choices_helper``: the choices of the vocabulary named by the field."""
    return vocabularies.choices(field["vocabulary"])


def yantai_vocabulary_label(vocabulary: str, value: str, lang: str = "zh_Hans_CN") -> str:
    return vocabularies.label(vocabulary, value, lang)


def yantai_quality(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """The dataset's quality for its page: score, issues with labels, missing fields, last
    update."""
    result = quality_index.assess(pkg_dict)
    return {
        "score": result.score,
        "issues": [{"code": code, "label": tk._(quality.ISSUE_LABELS[code])}
                   for code in result.issues],
        "missing_fields": result.missing_fields,
        "last_updated": result.last_updated,
        "overdue_days": result.overdue_days,
    }


def yantai_department_quality(organization: str) -> dict[str, Any] | None:
    """The department's line of yantai_quality_summary, as the current user may see it."""
    summary = tk.get_action("yantai_quality_summary")({}, {"organization": organization})
    return summary[0] if summary else None


def yantai_issue_label(code: str) -> str:
    return tk._(quality.ISSUE_LABELS.get(code, code))


TIER_MEANINGS = {
    "open": "Open data: everyone may see and download it.",
    "conditional": "Conditionally open: everyone sees the description; the data is available to "
                   "approved applicants. Apply stating your purpose; the department decides within "
                   "{num} working days.",
    "closed": "Not open to the public: for government users by the share type.",
}
REQUEST_STATUSES = {
    "pending": "Under review", "approved": "Approved", "rejected": "Rejected",
    "revoked": "Revoked", "expired": "Expired",
}


def yantai_request_status_label(status: str) -> str:
    return tk._(REQUEST_STATUSES.get(status, status))


def yantai_tier(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """The dataset's tier for its page, as the current user stands with it."""
    lang = tk.h.lang()
    ds = access.dataset_of(pkg_dict)
    viewer = access.viewer_for(tk.current_user if tk.current_user.is_authenticated else None)
    has_data = tiers.sees_data(ds, viewer)
    latest = None
    if viewer.user_id:
        latest = (model.Session.query(AccessRequest)
                  .filter(AccessRequest.package_id == ds.id,
                          AccessRequest.user_id == viewer.user_id)
                  .order_by(AccessRequest.created.desc()).first())
    request = None
    if latest is not None:
        request = access_requests.as_dict(latest)
        request["status_label"] = yantai_request_status_label(request["status"])
    pending = None
    may_approve = False
    if viewer.user_id and tiers.oversees(viewer, ds.owner_org):
        change = tier_changes.pending_for(ds.id)
        if change is not None:
            pending = tier_changes.as_dict(change)
            may_approve = tier_changes.may_approve(model.User.get(viewer.user_id), change)
    kind = tiers.request_kind(ds, viewer)
    return {
        "open_type": ds.open_type, "share_type": ds.share_type,
        "open_label": vocabularies.label("open_type", ds.open_type, lang),
        "share_label": vocabularies.label("share_type", ds.share_type, lang),
        "meaning": tk._(TIER_MEANINGS.get(ds.open_type, "")).format(
            num=config.access_review_workdays()),
        "has_data": has_data,
        "expires": latest.expires.isoformat() if has_data and latest is not None
        and latest.status == "approved" and latest.expires else None,
        "request": request,
        "may_apply": kind is not None and (request is None or request["status"] != "pending"),
        "login_to_apply": viewer.user_id is None and ds.open_type == "conditional",
        "pending_change": pending, "may_approve_change": may_approve,
    }


def _visible_featured(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CKAN's featured groups and organizations (home page) list two datasets each, found with
    ignore_auth: keep only those the current user may see, without data they may not have."""
    viewer = access.viewer_for(tk.current_user if tk.current_user.is_authenticated else None)
    for group in groups:
        packages = group.get("packages") or []
        visible = access.visible_packages(viewer, [pkg["id"] for pkg in packages])
        group["packages"] = [access.guard_search_result(viewer, pkg) for pkg in packages
                             if pkg["id"] in visible]
    return groups


@tk.chained_helper
def get_featured_organizations(next_helper: Any, *args: Any, **kwargs: Any) -> Any:
    return _visible_featured(next_helper(*args, **kwargs))


@tk.chained_helper
def render_datetime(next_helper: Any, datetime_: Any, date_format: str | None = None,
                    with_hours: bool = False, with_seconds: bool = False) -> str:
    """CKAN writes a time to the minute as "MMMM d, YYYY, HH:mm (z)" in every language, which in
    Chinese reads "十二月 4, 2026, 03:23 (+0800)"; the portal writes "2026年12月4日 11:23" there,
    in the display time zone (Asia/Shanghai)."""

    if with_hours and not with_seconds and not date_format and get_lang().startswith("zh"):
        if isinstance(datetime_, datetime.datetime) and datetime_.tzinfo is not None:
            datetime_ = datetime_.astimezone(tk.h.get_display_timezone())
        return next_helper(datetime_, date_format="%Y年%-m月%-d日 %H:%M")
    return next_helper(datetime_, date_format=date_format, with_hours=with_hours,
                       with_seconds=with_seconds)


@tk.chained_helper
def get_featured_groups(next_helper: Any, *args: Any, **kwargs: Any) -> Any:
    return _visible_featured(next_helper(*args, **kwargs))


def yantai_may_see_queue(organization_id: str) -> bool:
    if not tk.current_user.is_authenticated:
        return False
    return tiers.oversees(access.viewer_for(tk.current_user), organization_id)


def yantai_may_see_compliance(organization_id: str | None = None) -> bool:
    """Whether the current user sees 双公示 figures: of this department, or any (no id)."""
    if not tk.current_user.is_authenticated:
        return False
    viewer = access.viewer_for(tk.current_user)
    if organization_id:
        return tiers.oversees(viewer, organization_id)
    return tiers.sees_compliance(viewer)


def yantai_home_figures() -> dict[str, Any]:
    """The home page's catalogue figures as the current visitor may see them (home.figures)."""
    return home.figures()


def yantai_portal() -> dict[str, Any]:
    """Who runs the portal and how to reach them (About page, footer)."""
    return home.portal()


def yantai_percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


COMPLIANCE_LABELS = {
    "timeliness": {"on_time": "On time", "late": "Late", "pending": "Pending",
                   "overdue": "Overdue", "calendar_missing": "Calendar missing"},
    "publish": {"allowed": "Published", "not_for_publication": "Not for publication",
                "expired": "Publicity ended", "revoked": "Revoked"},
    "push_status": {"none": "Not pushed", "pending": "Waiting", "sent": "Sent",
                    "failed": "Failed, retrying", "rejected": "Rejected"},
    "record_type": {"license": "Administrative licensing", "penalty": "Administrative penalty"},
}
COMPLIANCE_FILTERS = {"timeliness": "Timeliness", "late_days": "Working days late",
                      "error": "Rule", "valid": "Valid", "publish": "Publication",
                      "push_status": "Push", "record_type": "Type", "month": "Decision month"}


def yantai_compliance_label(kind: str, value: str | None) -> str:
    """The display name of a 双公示 state (timeliness, publication, push, record type)."""
    if value is None:
        return "–"
    text = COMPLIANCE_LABELS.get(kind, {}).get(value)
    return tk._(text) if text else value


def yantai_compliance_filter_label(key: str, value: str) -> str:
    if key == "error":
        shown = messages.rule_label(value)
    elif key == "valid":
        shown = tk._("yes") if tk.asbool(value) else tk._("no")
    else:
        shown = yantai_compliance_label(key, value)
    return f"{tk._(COMPLIANCE_FILTERS.get(key, key))}: {shown}"


__all__ = ["get_featured_organizations", "get_featured_groups", "render_datetime", "yantai_tier",
           "yantai_request_status_label", "yantai_may_see_queue", "yantai_vocabulary_choices",
           "yantai_vocabulary_label", "yantai_quality",
           "yantai_department_quality", "yantai_issue_label", "yantai_may_see_compliance",
           "yantai_percent", "yantai_home_figures", "yantai_portal", "yantai_compliance_label",
           "yantai_compliance_filter_label",
           "yantai_editor_desks", "yantai_datastore_status", "yantai_column_type_label",
           "yantai_api_example", "yantai_json", "yantai_dataset_applications",
           "yantai_usage", "yantai_api_usage", "yantai_department_usage"]


DATASET_APPLICATIONS = 6  # listed on a dataset's page


def yantai_editor_desks() -> list[editor_dashboard.Desk]:
    """The current user's departments with their datasets, drafts and what waits (dashboard)."""
    return editor_dashboard.for_user(tk.current_user)


def yantai_dataset_applications(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """The published applications that use the dataset, for its page: the newest few, and how
    many there are (``count``)."""
    try:
        return tk.get_action("yantai_application_list")({}, {"dataset": pkg_dict["id"],
                                                             "limit": DATASET_APPLICATIONS})
    except tk.ValidationError:  # a draft: no application uses it yet
        return {"count": 0, "results": []}


def yantai_datastore_status(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The DataStore load of a resource for its page: state, rows, the reason of a failure, the
    values that did not fit their columns and the columns no 信息项 names (all but the state
    only to whoever may have the data),
    and whether the viewer may ask for a reload. None for a resource that is not loaded."""
    stored = model.Resource.get(resource.get("id") or "") if resource.get("id") else None
    if stored is None or datastore_loader.format_of(datastore_loader.facts(stored)) is None:
        return None  # (from what is stored: a viewer without the data may not see its URL)
    status = datastore_loader.status(resource["id"])
    if status is None:
        return None
    shows_data = not resource.get("yantai_restricted")
    try:
        may_reload = tk.check_access("yantai_datastore_submit",
                                     {"user": tk.current_user.name if tk.current_user else ""},
                                     {"resource_id": resource["id"]})
    except tk.NotAuthorized:
        may_reload = False
    columns = status.get("columns") or []
    items = dict(status.get("items") or {})
    if items.get("missing"):  # the dataset's other tables may carry them
        others = [set((s.get("items") or {}).get("missing") or [])
                  for r in stored.package.resources if r.id != stored.id and r.state == "active"
                  if (s := datastore_loader.status(r.id)) is not None
                  and s["state"] == datastore_loader.COMPLETE]
        items["missing"] = [i for i in items["missing"] if all(i in o for o in others)]
    finished = status.get("finished")
    if finished:  # CKAN's render_datetime reads a naive time as UTC and ignores an offset
        finished = datetime.datetime.fromisoformat(finished).astimezone(
            datetime.UTC).replace(tzinfo=None)
    if not shows_data:  # its columns beyond the catalogue's 信息项 describe the data
        items["extra"] = []
    return {"state": status["state"], "rows": status.get("rows") if shows_data else None,
            "error": datastore_loader.error_message(status.get("error")) if shows_data else "",
            "misfits": [c for c in columns if c.get("misfits")] if shows_data else [],
            "items": items, "finished": finished, "may_reload": may_reload}


def yantai_column_type_label(column_type: str | None) -> str:
    """A DataStore column type by the name of its 数据类型 (数值型, 日期型…)."""
    value = {v: k for k, v in columns.ITEM_TYPES.items() if k != "binary"}.get(column_type or "")
    if value is None:
        return column_type or ""
    return yantai_vocabulary_label("data_type", value, tk.h.lang())


def yantai_api_example(resource_id: str) -> dict[str, Any]:
    """Values for the Data API dialog's examples from the table itself (a column and one of its
    values, as the visitor may read them), in place of the stock "jones" and "watershed", so that
    each example finds that row: the filter on the first column with a value, the search for a
    short word of a text column and the SQL on that same column (a table of numbers or dates only
    compares the first column). A table the visitor may not read, or an empty one, gets the city's
    name (and its first column where it has one)."""
    example: dict[str, Any] = {"q": "烟台", "column": "名称", "value": "烟台市"}
    user = tk.current_user
    context: Any = {"user": user.name if user is not None and user.is_authenticated else ""}
    try:
        found = tk.get_action("datastore_search")(context, {"resource_id": resource_id,
                                                            "limit": 1})
    except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
        found = None
    fields = [field for field in (found or {}).get("fields") or [] if field["id"] != "_id"]
    record = ((found or {}).get("records") or [{}])[0]
    values = [(field, record[field["id"]]) for field in fields
              if isinstance(record.get(field["id"]), (str, int, float))
              and str(record[field["id"]]).strip()]
    texts = [(field["id"], value.strip()) for field, value in values
             if field.get("type") == "text" and isinstance(value, str)]
    if texts:
        # search for the shortest value that is a word or a name (e.g. a district), else the
        # start of the first; the SQL looks for it in its own column
        words = sorted((text for text in texts if 2 <= len(text[1]) <= 6), key=lambda t: len(t[1]))
        where, q = words[0] if words else (texts[0][0], texts[0][1][:4])
        first = next(value for value in values if value[0]["id"] == texts[0][0])
        example = {"q": q, "column": first[0]["id"], "value": first[1]}
        condition = f"LIKE '%{_sql_text(q)}%'"
    elif values:
        field, value = values[0]
        where = field["id"]
        example = {"q": str(value), "column": where, "value": value}
        condition = f"= '{_sql_text(str(value))}'"
    else:
        if fields:
            example["column"] = fields[0]["id"]
        where, condition = example["column"], f"LIKE '%{_sql_text(example['q'])}%'"
    quoted = where.replace('"', '""')
    example["sql"] = f'SELECT * FROM "{resource_id}" WHERE "{quoted}" {condition} LIMIT 5'
    return example


def _sql_text(text: str) -> str:
    """Text inside an SQL string literal."""
    return text.replace("'", "''")


def yantai_json(value: Any, shell: bool = False) -> Markup:
    """A value as a JSON literal in a code example: Chinese as itself (Jinja's tojson writes
    \\u escapes), safe inside HTML, and with ``shell`` inside a single-quoted shell string."""
    text = json.dumps(value, ensure_ascii=False)
    escapes = [("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")]
    for char, escaped in escapes + ([("'", "\\u0027")] if shell else []):
        text = text.replace(char, escaped)
    return Markup(text)


def yantai_usage(pkg_dict: dict[str, Any]) -> dict[str, Any] | None:
    """A dataset's usage figures (totals and this month), when the portal counts them."""
    if not tk.h.plugin_loaded("yantai_tracking") or not pkg_dict.get("id"):
        return None
    from ckanext.yantai import usage

    return usage.dataset_figures(pkg_dict["id"])


def yantai_api_usage(user_dict: dict[str, Any]) -> dict[str, Any]:
    """A user's API calls (today, this month) and the quotas that apply to them, for their API
    token page."""
    from ckanext.yantai import quotas, usage

    user = model.User.get(user_dict.get("id") or "")
    sysadmin = bool(user is not None and user.sysadmin)
    return {"calls": usage.user_calls(user.id) if user is not None else None,
            "counted": config.quotas_enabled() and not sysadmin,
            "quotas": [{"kind": kind, "limit": quotas.describe(config.quota(kind, True))}
                       for kind in ("api", "export", "sql")]}


def yantai_department_usage(organization_id: str) -> dict[str, int] | None:
    """This month's usage of all a department's datasets (any tier), for its members' desk."""
    if not tk.h.plugin_loaded("yantai_tracking"):
        return None
    from ckanext.yantai import usage

    org = model.Group.get(organization_id)
    if org is None:
        return None
    return usage.report(usage.month_of(None) or datetime.date.today().replace(day=1),
                        organization=org, public=False, months=1)["total"]
