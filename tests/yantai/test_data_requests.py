"""数据需求 and 纠错 through the API: filed by logged-in users, answered by the department within
its working days, public without who asked, searchable and followable."""
from __future__ import annotations

import datetime as dt

import ckan.model as model
import pytest
from ckan.tests import factories as ckan_factories

from ckanext.yantai import config
from ckanext.yantai.model import DataRequest
from tests.api import Api
from tests.yantai.disclosure_records import ADULT_ID

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


def _ask(town, **changes):
    data = {"kind": "request", "title": "公交车辆实时位置数据",
            "description": "希望开放全市公交车辆的实时位置，用于出行应用。",
            "purpose": "开发公交到站提醒小程序", "organization": town["transport"]["name"]}
    data.update(changes)
    return town["citizen"].ok("yantai_data_request_create", **data)


def test_a_citizen_asks_a_department_and_gets_a_deadline_in_working_days(town):
    request = _ask(town)
    assert request["status"] == "pending" and request["organization_title"] == "烟台市交通运输局"
    created = dt.date.fromisoformat(request["created"][:10])
    expected = config.calendar().add_workdays(created, config.data_request_answer_workdays())
    assert request["deadline"] == expected.isoformat()
    assert request["following"] is True and request["followers"] == 1 and request["mine"] is True


def test_the_public_sees_the_request_without_who_asked(town):
    request = _ask(town, description=f"联系人李市民，身份证{ADULT_ID}，电话13905351234")
    seen = town["anonymous"].ok("yantai_data_request_show", id=request["id"])
    assert seen["user"] is None and seen["user_display_name"] is None
    assert ADULT_ID not in str(seen) and "13905351234" not in str(seen)
    assert seen["mine"] is False and seen["can_answer"] is False
    # the department sees who asked
    assert town["editor"].ok("yantai_data_request_show", id=request["id"])["user"] == \
        town["citizen_name"]


def test_the_department_answers_and_the_answer_is_public(town):
    request = _ask(town)
    answered = town["editor"].ok("yantai_data_request_answer", id=request["id"],
                                 outcome="published", answer="已开放，见公交线路站点信息数据集。",
                                 answer_package_id=town["dataset"]["name"])
    assert answered["status"] == "answered" and answered["outcome_label"] == "已开放"
    seen = town["anonymous"].ok("yantai_data_request_show", id=request["id"])
    assert seen["answer"] == "已开放，见公交线路站点信息数据集。"
    assert seen["answer_package_title"] == "烟台市公交线路站点信息"


@pytest.mark.parametrize("who", ["member", "stranger", "citizen"])
def test_only_the_department_answers(town, who):
    request = _ask(town)
    error = town[who].errors("yantai_data_request_answer", id=request["id"], outcome="planned",
                             answer="将在下季度开放。")
    assert error["__type"] == "Authorization Error"
    assert "只有被请求的部门" in error["message"]


def test_a_published_answer_must_name_an_open_dataset(town):
    request = _ask(town)
    for ref in (town["closed"]["name"], "no-such-dataset", None):
        error = town["editor"].errors("yantai_data_request_answer", id=request["id"],
                                      outcome="published", answer="已开放。",
                                      answer_package_id=ref)
        assert set(error) == {"__type", "answer_package_id"}


def test_an_error_report_names_a_dataset_the_user_may_see(town):
    report = town["citizen"].ok("yantai_data_request_create", kind="correction",
                                title="站点坐标错误",
                                description="毓璜顶医院站的经纬度与实际位置相差约两公里。",
                                package_id=town["dataset"]["name"])
    assert report["organization_title"] == "烟台市交通运输局"
    assert report["package_title"] == "烟台市公交线路站点信息"
    error = town["citizen"].errors("yantai_data_request_create", kind="correction",
                                   title="轨迹缺失", description="部分车辆轨迹缺失。",
                                   package_id=town["closed"]["name"])
    assert set(error) == {"__type", "package_id"}  # as if there were no such dataset


@pytest.mark.parametrize(("changes", "key"), [
    ({"kind": "wish"}, "kind"), ({"kind": None}, "kind"), ({"title": ""}, "title"),
    ({"title": "x"}, "title"), ({"title": "长" * 201}, "title"), ({"title": ["a", "b"]}, "title"),
    ({"description": "   "}, "description"), ({"purpose": None}, "purpose"),
    ({"organization": "no-such-department"}, "organization"),
    ({"organization": {"id": "x"}}, "organization"),
])
def test_a_bad_request_is_a_409_naming_the_field_in_chinese(town, changes, key):
    data = {"kind": "request", "title": "公交车辆实时位置数据", "description": "希望开放。",
            "purpose": "出行应用", "organization": town["transport"]["name"], **changes}
    data = {k: v for k, v in data.items() if v is not None}
    error = town["citizen"].errors("yantai_data_request_create", **data)
    assert error["__type"] == "Validation Error" and key in error
    assert any("\u4e00" <= c <= "\u9fff" for c in str(error[key]))
    assert model.Session.query(DataRequest).count() == 0


def test_anonymous_users_cannot_file_or_follow(town):
    request = _ask(town)
    for action, data in (("yantai_data_request_create", {"kind": "request", "title": "数据"}),
                         ("yantai_data_request_follow", {"id": request["id"]})):
        assert town["anonymous"].errors(action, **data)["__type"] == "Authorization Error"


@pytest.mark.parametrize("text", ["绝密★公交调度方案", "機密級文件", "秘\u200b密★资料"])
def test_classified_markings_are_refused(town, text):
    error = town["citizen"].errors("yantai_data_request_create", kind="request", title=text,
                                   description="希望开放。", purpose="研究",
                                   organization=town["transport"]["name"])
    assert set(error) == {"__type", "title"}
    assert model.Session.query(DataRequest).count() == 0


def test_requests_are_searchable_and_followable(town):
    bus = _ask(town)
    _ask(town, title="医疗机构床位数据", description="希望开放医院床位数。",
         organization=town["other"]["name"])
    api = town["anonymous"]
    assert [r["id"] for r in api.ok("yantai_data_request_list", q="公交 实时")["results"]] == [
        bus["id"]]
    assert api.ok("yantai_data_request_list", q="100%_")["count"] == 0
    assert api.ok("yantai_data_request_list",
                  organization=town["other"]["name"])["results"][0]["title"] == "医疗机构床位数据"
    stranger = town["stranger"]
    stranger.ok("yantai_data_request_follow", id=bus["id"])
    stranger.ok("yantai_data_request_follow", id=bus["id"])  # again: no change
    followed = stranger.ok("yantai_data_request_list", following=True)
    assert [r["id"] for r in followed["results"]] == [bus["id"]]
    assert followed["results"][0]["followers"] == 2
    stranger.ok("yantai_data_request_unfollow", id=bus["id"])
    assert stranger.ok("yantai_data_request_list", following=True)["count"] == 0
    assert api.errors("yantai_data_request_list", following=True)["__type"] == \
        "Authorization Error"


def test_overdue_requests_are_counted_by_department(town, app):
    sysadmin = Api(app, ckan_factories.SysadminWithToken()["token"])
    request = sysadmin.ok("yantai_data_request_create", kind="request",
                          title="公交车辆实时位置数据", description="全市公交车辆的实时位置。",
                          purpose="出行应用",
                          organization=town["transport"]["name"],
                          created="2026-11-02T09:00:00+08:00",
                          requester=town["citizen_name"])  # imported from an earlier system
    assert request["deadline"] == "2026-11-16"  # 10 working days after Monday 2 November
    assert town["citizen"].ok("yantai_data_request_show", id=request["id"])["mine"] is True
    api = town["anonymous"]
    assert api.ok("yantai_data_request_show", id=request["id"])["status"] == "overdue"
    assert api.ok("yantai_data_request_list", status="overdue")["count"] == 1
    assert api.ok("yantai_data_request_list", status="pending")["count"] == 0
    (row,) = api.ok("yantai_data_request_overdue")
    assert (row["organization_title"], row["overdue"]) == ("烟台市交通运输局", 1)


@pytest.mark.parametrize(("who", "changes", "key"), [
    ("citizen", {"created": "2026-11-02T09:00:00+08:00"}, "created"),
    ("citizen", {"requester": "someone"}, "requester"),
    ("sysadmin", {"created": "2099-01-01T00:00:00+08:00"}, "created"),
    ("sysadmin", {"created": "yesterday"}, "created"),
    ("sysadmin", {"requester": "no-such-user"}, "requester"),
])
def test_only_a_sysadmin_imports_a_past_request(town, app, who, changes, key):
    api = Api(app, ckan_factories.SysadminWithToken()["token"]) if who == "sysadmin" \
        else town[who]
    error = api.errors("yantai_data_request_create", kind="request", title="公交数据",
                       description="公交。", purpose="研究",
                       organization=town["transport"]["name"], **changes)
    assert set(error) == {"__type", key}


@pytest.mark.parametrize(("data", "key"), [
    ({"status": "late"}, "status"), ({"limit": 0}, "limit"), ({"offset": "x"}, "offset"),
    ({"following": "maybe"}, "following"), ({"q": ["a"]}, "q"),
])
def test_a_bad_list_is_a_409(town, data, key):
    error = town["anonymous"].errors("yantai_data_request_list", **data)
    assert key in error


def test_a_masked_number_cannot_be_read_back_through_search(town):
    asked = town["citizen"].ok("yantai_data_request_create", kind="request",
                               title="公交线路站点数据更新频率", purpose="出行研究",
                               description="如有疑问请联系13912345678，希望每日更新。",
                               organization=town["transport"]["name"])
    assert "139****5678" in asked["description"]
    for q in ("1391234", "13912345678"):
        assert town["anonymous"].ok("yantai_data_request_list", q=q)["count"] == 0, q
