"""Bad input never answers 500 (issue 13, item 11): every action and page below once did. Each
answers a structured error instead (a ValidationError with a Chinese message: 409; or 400/403/
404), through the real API, as the callers who would send it."""
from __future__ import annotations

import io
import json

import ckan.model as model
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from ckanext.harvest.model import HarvestSource

from ckanext.yantai.model import DisclosureRecord
from tests import factories
from tests.api import Api
from tests.yantai.disclosure_records import penalty

pytestmark = pytest.mark.usefixtures("clean_db")


def answer(api: Api, action: str, **data) -> tuple[int, dict]:
    resp = api.app.post(f"/api/3/action/{action}", json=data, headers=api.headers, status=None)
    return resp.status_code, resp.json


def refused(api: Api, action: str, status: int = 409, **data) -> dict:
    """The error of a call refused with ``status`` (a ValidationError by default)."""
    code, body = answer(api, action, **data)
    assert code == status, (code, body)
    assert body["success"] is False
    return body["error"]


def chinese(error: dict) -> str:
    """The error's messages, asserting they are in Chinese."""
    text = json.dumps({k: v for k, v in error.items() if k != "__type"}, ensure_ascii=False)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), error
    return text


@pytest.fixture
def department(app):
    admin = ckan_factories.UserWithToken()
    editor = ckan_factories.UserWithToken()
    org = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"},
                                        {"name": editor["name"], "capacity": "editor"}])
    sysadmin = ckan_factories.SysadminWithToken()
    return {"org": org, "admin": Api(app, admin["token"]), "editor": Api(app, editor["token"]),
            "editor_name": editor["name"], "sysadmin": Api(app, sysadmin["token"]),
            "sysadmin_name": sysadmin["name"], "anonymous": Api(app, None)}


# -- yantai_compliance_check ----------------------------------------------------------------------

def test_decision_and_publication_dates_at_the_ends_of_time(department):
    """The working-day calendar covers a few years: outside them the check says so."""
    failures = []
    for day in ("9999-12-31", "0001-01-01", "1900-01-01", "2999-06-30"):
        for api in (department["anonymous"], department["editor"]):
            code, body = answer(api, "yantai_compliance_check", record_type="penalty",
                                record=penalty(处罚决定日期=day))
            if code not in (200, 409) or code == 200 and not (
                    body["result"]["valid"] is False
                    or body["result"]["timeliness"] == "calendar_missing"):
                failures.append((day, code, body))
    for published_at in ("9999-12-31T23:59:59+08:00", "0001-01-01T00:00:00+00:00",
                         "9999-12-31T23:59:59-12:00"):
        code, body = answer(department["anonymous"], "yantai_compliance_check",
                            record_type="penalty", record=penalty(), published_at=published_at)
        if code not in (200, 409):
            failures.append((published_at, code, body))
    assert not failures, failures


def deep(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("as_text", [False, True])
def test_a_deeply_nested_record(app, department, as_text):
    record = json.dumps(deep(5000)) if as_text else deep(5000)
    body = '{"record_type": "penalty", "record": ' + record + "}"
    resp = app.post("/api/3/action/yantai_compliance_check", data=body,
                    content_type="application/json", status=None)
    assert resp.status_code in (400, 409), resp.get_data(as_text=True)[:500]
    if resp.status_code == 409:
        assert "record" in resp.json["error"], resp.json


def test_record_values_of_every_json_type(department):
    for value in ([1, 2], {"a": 1}, 12, 1.5, True, None, "x" * 100_000):
        code, body = answer(department["anonymous"], "yantai_compliance_check",
                            record_type="penalty", record=penalty(处罚决定日期=value,
                                                                  违法事实=value))
        assert code in (200, 409), (value, code, body)


# -- yantai_audit_log_list ------------------------------------------------------------------------

AUDIT_CASES = [
    ({"organization": ["x", "y"]}, "organization"),
    ({"organization": {"name": "x"}}, "organization"),
    ({"organization": 12}, "organization"),
    ({"limit": -5}, "limit"),
    ({"limit": 0}, "limit"),
    ({"limit": 10 ** 30}, "limit"),
    ({"limit": "1e3"}, "limit"),
    ({"limit": True}, "limit"),
    ({"offset": "abc"}, "offset"),
    ({"offset": -1}, "offset"),
    ({"offset": 10 ** 30}, "offset"),
    ({"offset": [1]}, "offset"),
    ({"since": "2026-13-01"}, "since"),
    ({"since": ["2026-01-01"]}, "since"),
    ({"since": "2026-01-01'; drop table audit"}, "since"),
    ({"until": "9999-12-31T23:59:59+14:00"}, "until"),
    ({"until": "2026-12-31T23:59:59+08:00"}, None),
    ({"since": "2026-01-01", "limit": 5000, "offset": "3"}, None),  # at most 1000 are given
]


def test_audit_log_parameters(department):
    failures = []
    for changes, field in AUDIT_CASES:
        data = {"organization": department["org"]["name"], **changes}
        for who in ("sysadmin", "admin"):
            code, body = answer(department[who], "yantai_audit_log_list", **data)
            if field is None:
                ok = code == 200
            elif field == "organization" and who == "admin":
                ok = code in (403, 404, 409)  # not this admin's department
            else:
                ok = code == 409 and field in body["error"] and chinese(body["error"])
            if not ok:
                failures.append((who, changes, code, body))
    assert not failures, failures


def test_audit_log_without_a_department(department):
    error = refused(department["sysadmin"], "yantai_audit_log_list")
    assert "organization" in error
    assert refused(department["sysadmin"], "yantai_audit_log_list", status=404,
                   organization="no-such-department")["__type"] == "Not Found Error"


# -- compliance reports ---------------------------------------------------------------------------

PERIODS = [
    ({"start": "0001-01"}, "start"),
    ({"start": "0000-01"}, "start"),
    ({"end": "9999-12"}, "end"),
    ({"start": "2026-13"}, "start"),
    ({"start": "2026-1"}, "start"),
    ({"start": "2026-01 "}, "start"),
    ({"start": "２０２６-０１"}, "start"),
    ({"start": ["2026-01"]}, "start"),
    ({"start": 202601}, "start"),
    ({"start": "2026-10", "end": "2026-09"}, "end"),
    ({"start": "1990-01", "end": "2026-01"}, "start"),  # far more months than a report shows
]


def test_report_periods(department):
    failures = []
    for action in ("yantai_compliance_report", "yantai_compliance_trend",
                   "yantai_compliance_ranking"):
        for period, field in PERIODS:
            code, body = answer(department["sysadmin"], action, **period)
            if not (code == 409 and field in body["error"] and chinese(body["error"])):
                failures.append((action, period, code, body))
    assert not failures, failures


def test_report_departments_and_filters_of_the_wrong_type(department):
    failures = []
    for action in ("yantai_compliance_report", "yantai_compliance_trend",
                   "yantai_compliance_records"):
        for organization in (["a"], {"a": 1}, 5):
            code, body = answer(department["sysadmin"], action, organization=organization)
            if code not in (404, 409):
                failures.append((action, organization, code, body))
    for changes in ({"limit": -5}, {"offset": 10 ** 30}, {"limit": "x"}, {"month": ["2026-01"]},
                    {"month": "0000-01"}, {"valid": "maybe"}, {"error": {"a": 1}},
                    {"timeliness": ["late"]}, {"late_days": {"x": 1}},
                    {"push_status": ["failed"]}, {"publish": 1}, {"record_type": [None]}):
        code, body = answer(department["sysadmin"], "yantai_compliance_records",
                            organization=department["org"]["name"], **changes)
        if code != 409:
            failures.append((changes, code, body))
    for changes in ({"valid": "false"}, {"valid": True}, {"limit": "5", "offset": 0},
                    {"push_status": "failed", "month": "2026-09"}):
        code, body = answer(department["sysadmin"], "yantai_compliance_records",
                            organization=department["org"]["name"], **changes)
        if code != 200:
            failures.append((changes, code, body))
    assert not failures, failures


# -- the dataset schema ---------------------------------------------------------------------------

@pytest.fixture
def dataset(department):
    return factories.Dataset(owner_org=department["org"]["id"])


def test_tiers_of_the_wrong_type(department, dataset):
    """open_type or share_type as a list or an object (the lead's validators decide the
    message)."""
    failures = []
    for field in ("open_type", "share_type"):
        for value in (["open"], {"open": True}, ["open", "closed"], 1, True):
            for who in ("editor", "sysadmin"):
                code, body = answer(department[who], "package_patch", id=dataset["id"],
                                    **{field: value})
                if not (code == 409 and field in body["error"]):
                    failures.append((field, value, who, code, body))
    assert not failures, failures


def test_text_fields_of_the_wrong_type(department, dataset):
    failures = []
    for field in ("title", "notes"):
        for value in (["绝密★"], {"zh": "标题"}, 12, 1.5, [["a"]]):
            for who in ("editor", "sysadmin"):
                code, body = answer(department[who], "package_patch", id=dataset["id"],
                                    **{field: value})
                # A number may be kept as its text; never a list or an object.
                if code not in (200, 409) or code == 200 and not (
                        isinstance(value, (int, float))
                        and body["result"][field] == str(value)):
                    failures.append((field, value, who, code, body))
    assert not failures, failures


def test_resource_names_of_the_wrong_type(department, dataset):
    failures = []
    for value in (["绝密★"], {"zh": "名称"}, 12, [None]):
        code, body = answer(department["editor"], "resource_create", package_id=dataset["id"],
                            name=value, url="http://data.example.com/a.csv")
        if code not in (200, 409) or code == 200 and not isinstance(body["result"]["name"], str):
            failures.append(("resource_create", value, code, body))
        code, body = answer(department["editor"], "package_patch", id=dataset["id"],
                            resources=[{"name": value, "url": "http://data.example.com/a.csv"}])
        if code not in (200, 409):
            failures.append(("package_patch", value, code, body))
    assert not failures, failures


# -- harvest jobs ---------------------------------------------------------------------------------

@pytest.fixture
def source(department, feeds_allowed):
    return call_action("harvest_source_create", context={"user": department["sysadmin_name"]},
                       name="jtj-release", title="交通运输局发布清单",
                       url=feeds_allowed.url("/release/manifest.json"),
                       source_type="yantai_release", owner_org=department["org"]["id"])


def test_a_second_job_while_one_waits_or_runs(department, source):
    department["sysadmin"].ok("harvest_job_create", source_id=source["id"], run=False)
    for who in ("sysadmin", "admin"):
        error = refused(department[who], "harvest_job_create", source_id=source["id"], run=False)
        assert "source_id" in error, error
        assert "已有" in chinese(error)


def test_a_job_for_a_missing_or_inactive_source(department, source):
    for data in ({}, {"source_id": ""}, {"source_id": ["x"]}, {"source_id": "no-such-source"}):
        code, body = answer(department["sysadmin"], "harvest_job_create", **data)
        assert code in (404, 409), (data, code, body)
    inactive = HarvestSource.get(source["id"])
    assert inactive is not None
    inactive.active = False
    inactive.save()
    error = refused(department["sysadmin"], "harvest_job_create", source_id=source["id"])
    chinese(error)


def test_jobs_listed_without_a_source(department, source):
    for who in ("admin", "editor", "anonymous"):
        for data in ({}, {"source_id": ["x"]}, {"source_id": 5}):
            code, body = answer(department[who], "harvest_job_list", **data)
            assert code in (403, 404, 409), (who, data, code, body)
    assert isinstance(department["sysadmin"].ok("harvest_job_list"), list)


# -- pages ----------------------------------------------------------------------------------------

def test_changes_of_many_versions_with_bad_parameters(app, department):
    failures = []
    for kind in ("dataset", "organization", "group"):
        for query in ("", "?new_id=x", "?new_id=x&old_id=y", "?old_id=&new_id=",
                      "?new_id=%00&old_id=%ff", "?new_id=a&new_id=b&old_id=" + "f" * 5000):
            resp = app.get(f"/{kind}/changes_multiple{query}", status=None)
            if resp.status_code not in (400, 403, 404):
                failures.append((kind, query[:80], resp.status_code))
    assert not failures, failures


def test_changes_of_versions_of_different_datasets(app, department, dataset, sysadmin_api):
    from ckanext.activity.model import Activity

    other = factories.Dataset(owner_org=department["org"]["id"])
    for pkg in (dataset, other):
        sysadmin_api.ok("package_patch", id=pkg["id"], notes="新的说明。")
    ids = {}
    for pkg in (dataset, other):
        ids[pkg["id"]] = [a.id for a in model.Session.query(Activity).filter_by(
            object_id=pkg["id"]).order_by(Activity.timestamp)]
    old, new = ids[dataset["id"]][0], ids[other["id"]][-1]
    for kind in ("dataset", "organization"):
        resp = app.get(f"/{kind}/changes_multiple?new_id={new}&old_id={old}",
                       headers=sysadmin_api.headers, status=None)
        assert resp.status_code in (400, 404), resp.status_code
    # Two versions of one dataset still show.
    first, last = ids[dataset["id"]][0], ids[dataset["id"]][-1]
    resp = app.get(f"/dataset/changes_multiple?new_id={last}&old_id={first}",
                   headers=sysadmin_api.headers, status=None)
    assert resp.status_code == 200, resp.status_code


# -- 双公示 uploads -------------------------------------------------------------------------------

@pytest.fixture
def disclosure_dataset(department):
    return factories.Dataset(owner_org=department["org"]["id"], title="行政处罚信息")


HEADER = ",".join(penalty())
ROW = ",".join(penalty().values())


def upload(department, dataset, content: bytes, filename: str = "records.csv"):
    api = department["editor"]
    resp = api.app.post("/api/3/action/resource_create", headers=api.headers, status=None,
                        data={"package_id": dataset["id"], "name": "行政处罚决定",
                              "record_type": "penalty",
                              "upload": (io.BytesIO(content), filename)})
    return resp.status_code, resp.json


UNREADABLE = {
    "binary": b"\x00\x01\x02\x03" * 1000,
    "nul": HEADER.encode() + b"\n" + b"\x00" * 10 + b"\n",
    "all-bytes": bytes(range(256)) * 40,
    "long-field": HEADER.encode() + b"\n" + ROW.encode() + b',"' + b"x" * 200_000 + b'"\n',
    "unclosed": HEADER.encode() + b"\n" + ROW.encode() + b'\n"' + b"x" * 3_000,
    "latin-1": "名称,x\n".encode("gb18030") + "café,é\n".encode("latin-1"),
}


@pytest.mark.usefixtures("clean_datastore")
def test_unreadable_record_files(department, disclosure_dataset):
    failures = []
    for name, content in UNREADABLE.items():
        code, body = upload(department, disclosure_dataset, content)
        if not (code == 409 and chinese(body["error"])):
            failures.append((name, code, body))
    assert not failures, failures


TRADITIONAL = ("行政相對人名稱,處罰決定日期,違法事實\n"
               "煙臺某某食品有限公司,2026-09-18,經營超過保質期的食品\n")


def received_text(resource_id: str) -> str:
    model.Session.expire_all()
    rows = model.Session.query(DisclosureRecord).filter_by(resource_id=resource_id).all()
    # Columns the standard does not have are kept as warnings, by name.
    return json.dumps([[r.fields, r.warnings] for r in rows], ensure_ascii=False)


@pytest.mark.parametrize("text", [TRADITIONAL, "許可機關,名稱\n煙台市,資料\n"])
@pytest.mark.usefixtures("clean_datastore")
def test_a_big5_file_is_read_as_big5_or_refused(department, disclosure_dataset, text):
    """Big5 bytes decode as GB18030 without error, into mojibake: read them as Big5, or refuse
    them when the encoding cannot be told."""
    data = text.encode("big5")
    data.decode("gb18030")  # no error: the mojibake the issue found
    code, body = upload(department, disclosure_dataset, data)
    if code == 200:
        got = received_text(body["result"]["id"])
        assert text.split(",")[0] in got, got
    else:
        assert code == 409, body
        assert "UTF-8" in chinese(body["error"])


@pytest.mark.usefixtures("clean_datastore")
def test_gb18030_and_utf8_files_still_read(department, disclosure_dataset):
    text = "\n".join([HEADER, ROW]) + "\n"
    for data in (text.encode("gb18030"), text.encode("utf-8"), text.encode("utf-8-sig"),
                 text.encode("utf-16")):
        code, body = upload(department, disclosure_dataset, data)
        assert code == 200, body
        assert "烟台某某食品有限公司" in received_text(body["result"]["id"])

