"""The conditional-access workflow through the Action API and the pages: apply, review deadline
in working days, approve with expiry, reject with reason, revoke, expiry, audit log and export."""
from __future__ import annotations

import csv
import datetime as dt
import io

import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from freezegun import freeze_time

from ckanext.yantai import access
from ckanext.yantai.model import AuditEntry
from tests import factories
from tests.api import Api

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

TODAY = access.today()  # in Asia/Shanghai, as the portal counts periods and expiries
# A period of use from today for half a year (a period wholly in the past is refused).
APPLICATION = {"purpose": "交通研究", "intended_use": "统计分析，不对外发布",
               "applicant_organization": "烟台大学", "period_start": TODAY.isoformat(),
               "period_end": (TODAY + dt.timedelta(days=180)).isoformat(),
               "commitment_accepted": True}


@pytest.fixture
def setting(app):
    admin = ckan_factories.UserWithToken()
    editor = ckan_factories.UserWithToken()
    org = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"},
                                        {"name": editor["name"], "capacity": "editor"}])
    dataset = factories.Dataset(owner_org=org["id"], open_type="conditional",
                                open_condition="签署安全承诺书", share_type="none",
                                share_condition="不共享")
    applicant = ckan_factories.UserWithToken()
    return {"org": org, "dataset": dataset, "admin": Api(app, admin["token"]),
            "admin_name": admin["name"],
            "editor": Api(app, editor["token"]), "applicant": Api(app, applicant["token"]),
            "applicant_name": applicant["name"], "anonymous": Api(app, None),
            "other": Api(app, ckan_factories.UserWithToken()["token"])}


def apply(s, **changes):
    return s["applicant"].call("yantai_access_request_create", package_id=s["dataset"]["id"],
                               **{**APPLICATION, **changes})


def apply_at(s, moment: str) -> dict:
    """Apply at a past moment (API tokens issued now are not valid then: call the action)."""
    with freeze_time(moment):
        return call_action("yantai_access_request_create",
                           context={"user": s["applicant_name"], "ignore_auth": False},
                           package_id=s["dataset"]["id"], **APPLICATION)


def test_application_is_checked_with_chinese_messages(setting):
    error = apply(setting, purpose="", commitment_accepted=False,
                  period_end=(TODAY - dt.timedelta(days=1)).isoformat())["error"]
    assert error["__type"] == "Validation Error"
    assert error["purpose"] == ["缺失值"]
    assert error["commitment_accepted"] == ["请阅读并接受数据安全承诺书后再提交申请"]
    assert error["period_end"] == ["使用期限的结束日期早于开始日期"]
    assert (apply(setting, period_start="明天")["error"]["period_start"]
            == ["日期格式应为 YYYY-MM-DD"])


def days(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


@pytest.mark.parametrize("start, end", [
    ("2020-01-01", "2020-12-31"), (days(-30), days(-1)), (days(-1), days(-1))])
def test_a_period_wholly_in_the_past_is_refused(setting, start, end):
    error = apply(setting, period_start=start, period_end=end)["error"]
    if start.startswith("2020"):  # years long gone: out of reach
        assert error["period_end"][0].startswith("请填写"), error
    else:
        assert error["period_end"] == ["使用期限已结束：请填写尚未结束的使用期限"], error


def test_a_period_that_has_begun_or_ends_today_is_accepted(setting):
    assert apply(setting, period_start=days(-30), period_end=days(0))["success"] is True


@pytest.mark.parametrize("value", [
    "2027-01-01'; drop", "2027-01-01 ", " 2027-01-01", "2027-01-01T00:00:00junk",
    "2027-1-1", "20270101", "2027-W01-1", "２０２７-０１-０１", "2027-02-30", "2027-01-01\n",
    "2027-01-01\u200b", ["2027-01-01"], {"date": "2027-01-01"}, 20270101, True])
@pytest.mark.parametrize("field", ["period_start", "period_end"])
def test_dates_are_read_whole_and_strictly(setting, field, value):
    error = apply(setting, **{field: value})["error"]
    assert error[field] == ["日期格式应为 YYYY-MM-DD"], error


@pytest.mark.parametrize("start, end, field", [
    ("0001-01-01", days(30), "period_start"), (days(0), "9999-12-31", "period_end"),
    ("1900-01-01", days(30), "period_start"), (days(0), f"{TODAY.year + 11}-01-01", "period_end"),
    (days(30), days(0), "period_end")])
def test_absurd_and_reversed_periods_are_refused(setting, start, end, field):
    error = apply(setting, period_start=start, period_end=end)["error"]
    assert list(error) == ["__type", field] or set(error) == {"__type", field}, error
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error[field][0]), error


def test_anonymous_cannot_apply_and_open_data_needs_no_application(setting):
    body = setting["anonymous"].call("yantai_access_request_create",
                                     package_id=setting["dataset"]["id"], **APPLICATION)
    assert body["error"]["__type"] == "Authorization Error"
    open_ds = factories.Dataset(owner_org=setting["org"]["id"])
    error = setting["applicant"].errors("yantai_access_request_create", package_id=open_ds["id"],
                                        **APPLICATION)
    assert error["package_id"] == ["该数据无条件开放，无需申请"]


def test_closed_dataset_is_not_found_for_applications(setting):
    closed = factories.Dataset(owner_org=setting["org"]["id"], open_type="closed",
                               share_type="none", share_condition="不共享")
    error = setting["applicant"].errors("yantai_access_request_create", package_id=closed["id"],
                                        **APPLICATION)
    assert error["__type"] == "Not Found Error"


@pytest.mark.parametrize("submitted,deadline", [
    # Thursday 10:00 in Shanghai. 2026: Mid-autumn Sep 25-27 and National Day Oct 1-7 off;
    # working days after: Sep 28, 29, 30, Oct 8, 9.
    ("2026-09-24T02:00:00", "2026-10-09"),
    # Thursday Sep 17: Fri 18, Sunday Sep 20 (a make-up working day), 21, 22, 23.
    ("2026-09-17T02:00:00", "2026-09-23"),
    # 23:30 UTC on Sep 16 is already Thursday Sep 17 in Shanghai.
    ("2026-09-16T23:30:00", "2026-09-23"),
])
def test_review_deadline_counts_working_days(setting, submitted, deadline):
    request = apply_at(setting, submitted)
    with freeze_time(submitted):
        assert request["review_deadline"] == deadline
        assert request["status"] == "pending" and request["overdue"] is False
        assert request["kind"] == "open"


def test_a_year_without_calendar_gives_no_deadline(setting):
    request = apply_at(setting, "2026-12-28T02:00:00")  # five working days reach into 2027
    assert request["review_deadline"] is None and request["calendar_missing"] is True


def test_duplicate_pending_application_is_refused(setting):
    apply(setting)
    assert apply(setting)["error"]["package_id"] == ["您已有该数据集的待审核申请"]


def data_reachable(api: Api, dataset_id: str) -> bool:
    pkg = api.ok("package_show", id=dataset_id)
    return bool(pkg["resources"][0]["url"])


@pytest.fixture
def with_resource(setting, sysadmin_api):
    sysadmin_api.ok("resource_create", package_id=setting["dataset"]["id"], name="数据",
                    url="http://data.example.com/secret.csv", format="CSV")
    return setting


def test_approve_grants_until_expiry_then_access_ends(with_resource):
    s = with_resource
    request = apply(s)["result"]
    assert not data_reachable(s["applicant"], s["dataset"]["id"])
    # Only the department's admin decides; not the applicant, not an editor, not a stranger.
    for who in ("applicant", "editor", "other"):
        body = s[who].call("yantai_access_request_decide", id=request["id"], decision="approve",
                           expires="2026-12-31")
        assert body["success"] is False, who
    error = s["admin"].errors("yantai_access_request_decide", id=request["id"],
                              decision="approve")
    assert error["expires"] == ["缺失值"]
    today = dt.date.today()
    decided = s["admin"].ok("yantai_access_request_decide", id=request["id"], decision="approve",
                            expires=(today + dt.timedelta(days=10)).isoformat())
    assert decided["status"] == "approved"
    assert data_reachable(s["applicant"], s["dataset"]["id"])
    shown = s["applicant"].ok("yantai_access_request_show", id=request["id"])
    assert shown["status"] == "approved"
    assert s["other"].errors("yantai_access_request_show", id=request["id"])["__type"] == \
        "Not Found Error"
    with freeze_time(today + dt.timedelta(days=11)):
        assert not data_reachable(s["applicant"], s["dataset"]["id"])
        assert s["applicant"].ok("yantai_access_request_show", id=request["id"])["status"] == \
            "expired"


@pytest.mark.parametrize("expires", [
    "2027-01-01'; drop", "2027-01-01 ", days(10) + "x", days(10) + "T00:00:00Z junk",
    days(10).replace("-", ""), "２０２７-０１-０１", "2027-02-30", [days(10)], {"d": days(10)},
    20270101, True, days(10) + "\u200b"])
def test_the_expiry_is_read_whole_and_strictly(setting, expires):
    request = apply(setting)["result"]
    error = setting["admin"].errors("yantai_access_request_decide", id=request["id"],
                                    decision="approve", expires=expires)
    assert error["expires"] == ["日期格式应为 YYYY-MM-DD"], error
    assert setting["admin"].ok("yantai_access_request_show",
                               id=request["id"])["status"] == "pending"


def test_access_never_outlasts_the_period_asked_for(setting):
    """Refused, not clamped: the admin sees the limit and chooses a date within it."""
    request = apply(setting, period_start=days(0), period_end=days(20))["result"]
    for expires in (days(21), days(365), "9999-12-31"):
        error = setting["admin"].errors("yantai_access_request_decide", id=request["id"],
                                        decision="approve", expires=expires)
        assert error["expires"] == [f"访问期限不得超过申请的使用期限（截至 {days(20)}）"], error
    for expires in (days(-1), "0001-01-01"):
        error = setting["admin"].errors("yantai_access_request_decide", id=request["id"],
                                        decision="approve", expires=expires)
        assert error["expires"] == ["授权到期日期已过"], error
    decided = setting["admin"].ok("yantai_access_request_decide", id=request["id"],
                                  decision="approve", expires=days(20))
    assert decided["expires"] == days(20) and decided["status"] == "approved"


def test_access_never_starts_after_it_ends(setting):
    request = apply(setting, period_start=days(30), period_end=days(60))["result"]
    error = setting["admin"].errors("yantai_access_request_decide", id=request["id"],
                                    decision="approve", expires=days(10))
    assert error["expires"] == [f"到期日期早于申请的使用期限开始日期（{days(30)}）"], error


def test_access_never_outlasts_the_configured_maximum(setting, monkeypatch):
    monkeypatch.setitem(tk.config, "ckanext.yantai.access.max_months", 1)
    request = apply(setting, period_start=days(0), period_end=days(170))["result"]
    error = setting["admin"].errors("yantai_access_request_decide", id=request["id"],
                                    decision="approve", expires=days(80))
    assert error["expires"] == ["授权期限最长为1个月"], error


def test_a_request_whose_period_ended_while_pending_cannot_be_approved(setting):
    request = apply_at(setting, "2026-09-24T02:00:00")
    with freeze_time(dt.date.fromisoformat(APPLICATION["period_end"]) + dt.timedelta(days=2)):
        error = call_action_error(setting, request["id"], dt.date.today().isoformat())
    # (called in Python, without a request: the message's English original)
    assert "Access may not last beyond the requested period of use" in error["expires"][0], error


def call_action_error(s, request_id: str, expires: str) -> dict:
    admin = model.User.get(s["admin_name"])
    assert admin is not None
    with pytest.raises(tk.ValidationError) as error:
        call_action("yantai_access_request_decide",
                    context={"user": admin.name, "ignore_auth": False},
                    id=request_id, decision="approve", expires=expires)
    return error.value.error_dict


def test_the_approval_form_offers_only_dates_within_the_limits(with_resource, app):
    s = with_resource
    apply(s, period_start=days(0), period_end=days(20))
    queue = app.get(f"/organization/access-requests/{s['org']['name']}",
                    headers=s["admin"].headers).get_data(as_text=True)
    assert f'min="{days(0)}"' in queue and f'max="{days(20)}"' in queue


def test_reject_needs_a_reason_the_applicant_sees(with_resource):
    s = with_resource
    request = apply(s)["result"]
    error = s["admin"].errors("yantai_access_request_decide", id=request["id"],
                              decision="reject")
    assert error["reason"] == ["驳回时请填写驳回理由"]
    s["admin"].ok("yantai_access_request_decide", id=request["id"], decision="reject",
                  reason="用途与开放条件不符")
    mine = s["applicant"].ok("yantai_access_request_list")
    assert [(r["status"], r["reason"]) for r in mine] == [("rejected", "用途与开放条件不符")]
    assert not data_reachable(s["applicant"], s["dataset"]["id"])


def test_revocation_ends_access_at_once(with_resource):
    s = with_resource
    request = apply(s)["result"]
    s["admin"].ok("yantai_access_request_decide", id=request["id"], decision="approve",
                  expires=(dt.date.today() + dt.timedelta(days=30)).isoformat())
    assert data_reachable(s["applicant"], s["dataset"]["id"])
    s["admin"].ok("yantai_access_request_revoke", id=request["id"], reason="违反承诺")
    assert not data_reachable(s["applicant"], s["dataset"]["id"])
    assert s["admin"].errors("yantai_access_request_revoke", id=request["id"])["id"] == \
        ["只能撤销已授权且未到期的访问"]


def test_department_queue_and_overdue_for_the_data_authority(setting, app):
    request = apply_at(setting, "2026-09-24T02:00:00")
    queue = setting["admin"].ok("yantai_access_request_list",
                                organization=setting["org"]["name"])
    assert [r["id"] for r in queue] == [request["id"]] and queue[0]["overdue"] is True
    reviewer = ckan_factories.UserWithToken()
    factories.Organization(name="ytdsjj", users=[{"name": reviewer["name"],
                                                  "capacity": "editor"}])
    overdue = Api(app, reviewer["token"]).ok("yantai_access_request_list", all=True,
                                             overdue=True)
    assert [r["id"] for r in overdue] == [request["id"]]
    assert setting["other"].call("yantai_access_request_list", all=True)["success"] is False
    assert setting["other"].errors("yantai_access_request_list",
                                   organization=setting["org"]["name"])["__type"] == \
        "Not Found Error"


def test_every_decision_and_restricted_download_is_audited_and_exported(with_resource, app,
                                                                        sysadmin_api):
    s = with_resource
    upload = sysadmin_api.app.post(
        "/api/3/action/resource_create", headers=sysadmin_api.headers,
        data={"package_id": s["dataset"]["id"], "name": "文件",
              "upload": (io.BytesIO(b"a,b\n1,2\n"), "data.csv")}).json["result"]
    request = apply(s)["result"]
    s["admin"].ok("yantai_access_request_decide", id=request["id"], decision="approve",
                  expires=(dt.date.today() + dt.timedelta(days=30)).isoformat())
    url = f"/dataset/{s['dataset']['id']}/resource/{upload['id']}/download/data.csv"
    assert app.get(url, headers=s["applicant"].headers).get_data() == b"a,b\n1,2\n"
    events = [e.event for e in model.Session.query(AuditEntry).order_by(AuditEntry.id)]
    assert events == ["access_request_created", "access_request_approved", "download"]
    log = s["admin"].ok("yantai_audit_log_list", organization=s["org"]["name"])
    assert log["count"] == 3
    assert log["results"][0]["actor"] == s["applicant_name"]
    assert s["editor"].call("yantai_audit_log_list",
                            organization=s["org"]["name"])["success"] is False
    exported = app.get(f"/organization/audit/{s['org']['name']}.csv",
                       headers=s["admin"].headers)
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[2] for r in rows[1:]] == ["download", "access_request_approved",
                                        "access_request_created"]
    assert app.get(f"/organization/audit/{s['org']['name']}.csv", headers=s["other"].headers,
                   status=404)


def test_the_pages(with_resource, app):
    s = with_resource
    name = s["dataset"]["name"]
    anonymous = app.get(f"/dataset/{name}").get_data(as_text=True)
    assert "有条件开放" in anonymous and "登录后申请数据" in anonymous
    page = app.get(f"/dataset/{name}", headers=s["applicant"].headers).get_data(as_text=True)
    assert f"/dataset/{name}/apply" in page
    form = app.get(f"/dataset/{name}/apply", headers=s["applicant"].headers)
    assert "数据安全承诺书" in form.get_data(as_text=True)
    refused = app.post(f"/dataset/{name}/apply", headers=s["applicant"].headers,
                       data={**APPLICATION, "commitment_accepted": ""})
    assert "请阅读并接受数据安全承诺书后再提交申请" in refused.get_data(as_text=True)
    sent = app.post(f"/dataset/{name}/apply", headers=s["applicant"].headers,
                    data={**APPLICATION, "commitment_accepted": "true"},
                    follow_redirects=False)
    assert sent.status_code == 302
    mine = app.get("/dashboard/access-requests", headers=s["applicant"].headers)
    assert "审核中" in mine.get_data(as_text=True)
    request = s["applicant"].ok("yantai_access_request_list")[0]
    queue = app.get(f"/organization/access-requests/{s['org']['name']}",
                    headers=s["admin"].headers).get_data(as_text=True)
    assert request["id"] in queue and "交通研究" in queue
    app.post(f"/access-request/{request['id']}/approve", headers=s["admin"].headers,
             data={"expires": (dt.date.today() + dt.timedelta(days=5)).isoformat()})
    assert s["applicant"].ok("yantai_access_request_show", id=request["id"])["status"] == \
        "approved"
    page = app.get(f"/dataset/{name}", headers=s["applicant"].headers).get_data(as_text=True)
    assert "您已获得该数据的访问权限" in page
    assert app.get(f"/organization/access-requests/{s['org']['name']}",
                   headers=s["other"].headers, status=404)


@pytest.mark.ckan_config("ckanext.yantai.access.review_workdays", "7")
def test_the_pages_give_the_configured_review_period(setting, app):
    s = setting
    name = s["dataset"]["name"]
    assert "7个工作日内审核" in app.get(f"/dataset/{name}").get_data(as_text=True)
    form = app.get(f"/dataset/{name}/apply", headers=s["applicant"].headers)
    assert "数据提供部门将在7个工作日内审核申请" in form.get_data(as_text=True)
    sent = app.post(f"/dataset/{name}/apply", headers=s["applicant"].headers,
                    data={**APPLICATION, "commitment_accepted": "true"})
    assert "申请已提交，数据提供部门将在7个工作日内审核" in sent.get_data(as_text=True)
    assert "5个工作日" not in sent.get_data(as_text=True)


def test_a_share_request_for_a_hidden_dataset_names_it_only_once_approved(setting, app):
    """A government user applies by id for a 不予开放 dataset shared on conditions, which the
    tiers hide from them until a share is approved: the request is filed, but neither its answer
    nor the applicant's list names the dataset; the approval does."""
    s = setting
    hidden = factories.Dataset(owner_org=s["org"]["id"], title="企业用电明细台账",
                               open_type="closed", open_condition="",
                               share_type="conditional", share_condition="仅用于信用监管")
    staff = ckan_factories.UserWithToken()
    factories.Organization(users=[{"name": staff["name"], "capacity": "editor"}])
    government = Api(app, staff["token"])
    assert government.call("package_show", id=hidden["id"])["success"] is False
    filed = government.ok("yantai_access_request_create", package_id=hidden["id"], **APPLICATION)
    assert filed["kind"] == "share" and filed["status"] == "pending"
    assert (filed["package_name"], filed["package_title"]) == (None, None)
    for answer in (government.ok("yantai_access_request_list"),
                   [government.ok("yantai_access_request_show", id=filed["id"])]):
        assert [(r["package_name"], r["package_title"]) for r in answer] == [(None, None)]
    page = app.get("/dashboard/access-requests", headers={"Authorization": staff["token"]})
    assert "企业用电明细台账" not in page.body and "有条件共享的数据集" in page.body
    # The owning department sees what is asked for, and approves it
    queue = s["admin"].ok("yantai_access_request_list", organization=s["org"]["name"])
    assert [r["package_title"] for r in queue] == ["企业用电明细台账"]
    s["admin"].ok("yantai_access_request_decide", id=filed["id"], decision="approve",
                  expires=days(30))
    shown = government.ok("yantai_access_request_show", id=filed["id"])
    assert (shown["package_name"], shown["package_title"]) == (hidden["name"], "企业用电明细台账")
