"""数据应用 through the API: submitted by logged-in users with the datasets they use, reviewed by
the departments whose data they use or the data authority, public once approved and only then;
hostile input refused in Chinese, never a 500."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import ckan.model as model
import pytest

from ckanext.yantai.model import Application, ApplicationDataset
from tests.yantai.disclosure_records import ADULT_ID

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

BUS_APP = {"title": "烟台公交实时查询小程序", "kind": "mini_program",
           "developer": "海滨科技有限公司", "url": "https://bus.haibin.example.cn/",
           "description": "查询公交线路、站点和到站时间，支持语音播报，方便老年人候车出行。"}


def _submit(town, who="citizen", **changes):
    data = {**BUS_APP, "datasets": [town["dataset"]["name"]], **changes}
    return town[who].ok("yantai_application_create", **data)


def _not_found(error) -> None:
    assert error["__type"] == "Not Found Error" and error["message"].endswith("应用不存在"), error


def test_a_citizen_submits_and_it_waits_for_review_unseen_by_the_public(app_town):
    town = app_town
    submitted = _submit(town)
    assert submitted["status"] == "pending" and submitted["status_label"] == "待审核"
    assert submitted["mine"] is True and submitted["can_review"] is False
    assert submitted["can_delete"] is True
    assert [d["title"] for d in submitted["datasets"]] == ["烟台市公交线路站点信息"]
    for who in ("anonymous", "stranger", "other_editor", "member"):
        _not_found(town[who].errors("yantai_application_show", id=submitted["id"]))
    for who in ("anonymous", "stranger"):  # the same answer as for an id that does not exist
        assert town[who].errors("yantai_application_show", id=submitted["id"]) == \
            town[who].errors("yantai_application_show", id="no-such-application")
    assert town["anonymous"].ok("yantai_application_list")["count"] == 0
    for who in ("editor", "reviewer", "sysadmin"):
        seen = town[who].ok("yantai_application_show", id=submitted["id"])
        assert seen["can_review"] is True and seen["submitter"] == town["citizen_name"]


def test_the_department_approves_and_the_application_is_public_without_who_submitted_it(
        app_town):
    town = app_town
    submitted = _submit(town)
    approved = town["editor"].ok("yantai_application_review", id=submitted["id"],
                                 decision="approve")
    assert approved["status"] == "published" and approved["published_at"]
    seen = town["anonymous"].ok("yantai_application_show", id=submitted["id"])
    assert seen["title"] == "烟台公交实时查询小程序" and seen["kind_label"] == "小程序"
    citizen = model.User.get(town["citizen_name"])
    assert citizen is not None
    assert citizen.id not in str(seen) and town["citizen_name"] not in str(seen)
    assert seen["submitter"] is None and seen["review_note"] is None
    listed = town["anonymous"].ok("yantai_application_list")
    assert [a["id"] for a in listed["results"]] == [submitted["id"]]
    by_dataset = town["anonymous"].ok("yantai_application_list", dataset=town["dataset"]["name"])
    assert by_dataset["count"] == 1
    assert town["anonymous"].ok("yantai_application_list",
                                dataset=town["taxis"]["name"])["count"] == 0


@pytest.mark.parametrize("who", ["other_editor", "member", "stranger", "anonymous"])
def test_only_those_whose_data_it_uses_review(app_town, who):
    town = app_town
    submitted = _submit(town)
    error = town[who].errors("yantai_application_review", id=submitted["id"],
                             decision="approve")
    if who == "anonymous":
        assert error["__type"] == "Authorization Error"
    else:  # an application awaiting review does not exist for them
        _not_found(error)
    town["reviewer"].ok("yantai_application_review", id=submitted["id"], decision="approve")
    error = town[who].errors("yantai_application_review", id=submitted["id"], decision="reject",
                             note="不符合要求。")
    assert error["__type"] == "Authorization Error"
    if who != "anonymous":
        assert "只有应用所用数据的提供部门" in error["message"]
    stored = model.Session.get(Application, submitted["id"])
    assert stored is not None and stored.status == "published"


def test_an_editor_of_any_department_whose_data_it_uses_reviews(app_town):
    town = app_town
    submitted = _submit(town, datasets=[town["clinics"]["name"], town["dataset"]["name"]])
    assert town["other_editor"].ok("yantai_application_show", id=submitted["id"])["can_review"]
    town["other_editor"].ok("yantai_application_review", id=submitted["id"], decision="approve")


def test_no_one_reviews_what_they_submitted(app_town):
    town = app_town
    own = _submit(town, who="editor")
    assert own["can_review"] is False
    error = town["editor"].errors("yantai_application_review", id=own["id"], decision="approve")
    assert error["__type"] == "Authorization Error"
    mine = _submit(town, who="sysadmin")
    assert town["sysadmin"].errors("yantai_application_review", id=mine["id"],
                                   decision="approve")["__type"] == "Authorization Error"


def test_a_rejection_needs_a_note_the_submitter_reads(app_town):
    town = app_town
    submitted = _submit(town)
    error = town["editor"].errors("yantai_application_review", id=submitted["id"],
                                  decision="reject")
    assert set(error) == {"__type", "note"} and "请说明不予通过的理由" in error["note"][0]
    for decision in ("maybe", ["approve"], None):
        error = town["editor"].errors("yantai_application_review", id=submitted["id"],
                                      decision=decision)
        assert "decision" in error
    rejected = town["editor"].ok("yantai_application_review", id=submitted["id"],
                                 decision="reject", note="应用链接无法打开，请修改后重新提交。")
    assert rejected["status_label"] == "未通过"
    seen = town["citizen"].ok("yantai_application_show", id=submitted["id"])
    assert seen["review_note"] == "应用链接无法打开，请修改后重新提交。"
    _not_found(town["anonymous"].errors("yantai_application_show", id=submitted["id"]))
    assert town["citizen"].ok("yantai_application_list", mine=True)["count"] == 1
    assert town["citizen"].ok("yantai_application_list", status="rejected")["count"] == 1
    assert town["stranger"].ok("yantai_application_list", status="rejected")["count"] == 0


def test_the_review_queue_holds_what_the_caller_reviews(app_town):
    town = app_town
    bus = _submit(town)
    clinics = _submit(town, title="接种门诊地图", datasets=[town["clinics"]["name"]])
    queue = {who: {a["id"] for a in town[who].ok("yantai_application_list",
                                                 status="pending")["results"]}
             for who in ("editor", "other_editor", "reviewer", "sysadmin", "member",
                         "anonymous", "citizen")}
    assert queue["editor"] == {bus["id"]} and queue["other_editor"] == {clinics["id"]}
    assert queue["reviewer"] == queue["sysadmin"] == queue["citizen"] == {bus["id"],
                                                                         clinics["id"]}
    assert queue["member"] == queue["anonymous"] == set()
    assert town["reviewer"].ok("yantai_application_list", status="pending",
                               organization=town["other"]["name"])["count"] == 1


def test_a_public_page_lists_only_the_datasets_the_viewer_may_see(app_town):
    town = app_town
    submitted = _submit(town, who="editor", datasets=[
        town["dataset"]["name"], town["closed"]["name"], town["private"]["name"]])
    assert len(submitted["datasets"]) == 3  # the editor's department's: all theirs to see
    town["reviewer"].ok("yantai_application_review", id=submitted["id"], decision="approve")
    public = town["anonymous"].ok("yantai_application_show", id=submitted["id"])
    assert [d["name"] for d in public["datasets"]] == [town["dataset"]["name"]]
    listed = town["citizen"].ok("yantai_application_list")["results"][0]
    assert [d["name"] for d in listed["datasets"]] == [town["dataset"]["name"]]
    assert len(town["editor"].ok("yantai_application_show", id=submitted["id"])["datasets"]) == 3
    error = town["anonymous"].errors("yantai_application_list", dataset=town["closed"]["name"])
    assert error["dataset"] == ["数据集不存在，或未向您开放"]


@pytest.mark.parametrize(("changes", "key"), [
    ({"url": "javascript:alert(1)"}, "url"),
    ({"url": " JavaScript:alert(document.cookie)"}, "url"),
    ({"url": "data:text/html,<script>alert(1)</script>"}, "url"),
    ({"url": "ｈｔｔｐｓ：／／bus.example.cn"}, "url"),
    ({"url": "https://bus.example.cn/\u200bapp"}, "url"),
    ({"url": "https://admin:secret@bus.example.cn/"}, "url"),
    ({"url": "https://bus.example.cn@evil.example.cn/"}, "url"),
    ({"url": "http://127.0.0.1:5000/admin"}, "url"),
    ({"url": "http://localhost/"}, "url"),
    ({"url": "http://192.168.1.10/"}, "url"),
    ({"url": "https://bus.example.cn/" + "a" * 500}, "url"),
    ({"url": "bus.example.cn"}, "url"),
    ({"url": ["https://bus.example.cn/"]}, "url"),
    ({"url": "   "}, "url"),
    ({"kind": "game"}, "kind"), ({"kind": ["app"]}, "kind"), ({"kind": None}, "kind"),
    ({"title": ""}, "title"), ({"title": "\u200b\u200b\u3000"}, "title"),
    ({"title": "长" * 101}, "title"), ({"title": {"zh": "应用"}}, "title"),
    ({"developer": None}, "developer"), ({"developer": 12}, "developer"),
    ({"description": "很好用"}, "description"),
    ({"datasets": []}, "datasets"), ({"datasets": None}, "datasets"),
    ({"datasets": "no-such-dataset"}, "datasets"), ({"datasets": [{"name": "x"}]}, "datasets"),
    ({"datasets": [1, 2]}, "datasets"),
])
def test_a_bad_submission_is_a_409_naming_the_field_in_chinese(app_town, changes, key):
    data = {**BUS_APP, "datasets": [app_town["dataset"]["name"]], **changes}
    data = {k: v for k, v in data.items() if v is not None}
    error = app_town["citizen"].errors("yantai_application_create", **data)
    assert error["__type"] == "Validation Error" and set(error) == {"__type", key}, error
    assert any("\u4e00" <= c <= "\u9fff" for c in str(error[key]))
    assert model.Session.query(Application).count() == 0


@pytest.mark.parametrize("which", ["closed", "private"])
def test_datasets_the_submitter_may_not_see_are_refused_as_missing(app_town, which):
    town = app_town
    error = town["citizen"].errors("yantai_application_create", **BUS_APP,
                                   datasets=[town[which]["name"]])
    assert error["datasets"] == [f"数据集不存在，或未向您开放：{town[which]['name']}"]
    missing = town["citizen"].errors("yantai_application_create", **BUS_APP,
                                     datasets=["no-such-dataset"])
    assert missing["datasets"][0].startswith("数据集不存在，或未向您开放：")


def test_at_most_twenty_datasets_repeats_counted_once(app_town, app):
    from tests import factories

    town = app_town
    names = [factories.Dataset(owner_org=town["transport"]["id"])["name"] for _ in range(21)]
    error = town["citizen"].errors("yantai_application_create", **BUS_APP, datasets=names)
    assert error["datasets"] == ["一个应用最多关联 20 个数据集"]
    repeated = names[:20] + names[:5] + [f"http://portal.example.cn/dataset/{names[0]}"]
    assert len(_submit(town, datasets=repeated)["datasets"]) == 20


def test_padded_full_width_and_invisible_values_are_read_as_typed(app_town):
    town = app_town
    dataset = town["dataset"]
    wide = "".join(chr(ord(c) + 0xFEE0) for c in dataset["name"])  # ａｂｃ…
    submitted = _submit(town, kind=" ｍｉｎｉ_ｐｒｏｇｒａｍ\u200b ",
                        title="\u3000 烟台公交\u200b查询 ",
                        url="  https://BUS.Haibin.example.cn/查询?线路=46 \u200b",
                        datasets=f" {dataset['name']}\n{dataset['id']}，{wide}\u200b、"
                                 f"https://portal.example.cn/dataset/{dataset['name']}/resource/x ")
    assert submitted["kind"] == "mini_program" and submitted["title"] == "烟台公交查询"
    assert submitted["url"] == "https://bus.haibin.example.cn/查询?线路=46"
    assert len(submitted["datasets"]) == 1
    assert model.Session.query(ApplicationDataset).count() == 1


@pytest.mark.parametrize("text", ["绝密★公交调度方案", "機密級文件", "秘\u200b密★资料"])
def test_classified_markings_are_refused(app_town, text):
    error = app_town["citizen"].errors("yantai_application_create",
                                       **{**BUS_APP, "description": f"本应用使用{text}。"},
                                       datasets=[app_town["dataset"]["name"]])
    assert set(error) == {"__type", "description"}
    assert model.Session.query(Application).count() == 0


def test_personal_data_in_the_texts_is_masked(app_town):
    town = app_town
    submitted = _submit(town, description=f"联系人李先生，身份证{ADULT_ID}，电话13905351234，"
                                          "欢迎反馈问题。")
    town["editor"].ok("yantai_application_review", id=submitted["id"], decision="approve")
    seen = town["anonymous"].ok("yantai_application_show", id=submitted["id"])
    assert ADULT_ID not in str(seen) and "13905351234" not in str(seen)


def test_search_kinds_and_pages(app_town):
    town = app_town
    ids = []
    for n, kind in enumerate(("app", "website", "analysis")):
        submitted = _submit(town, title=f"应用{n}号", kind=kind,
                            developer="烟台大学课题组" if kind == "analysis" else "海滨科技")
        town["reviewer"].ok("yantai_application_review", id=submitted["id"], decision="approve")
        ids.append(submitted["id"])
    api = town["anonymous"]
    assert [a["id"] for a in api.ok("yantai_application_list", q="烟台大学")["results"]] == [
        ids[2]]
    assert api.ok("yantai_application_list", q="100%_")["count"] == 0
    assert [a["id"] for a in api.ok("yantai_application_list", kind="website")["results"]] == [
        ids[1]]
    page2 = api.ok("yantai_application_list", limit=2, page=2)
    assert page2["count"] == 3 and [a["id"] for a in page2["results"]] == [ids[0]]
    assert len(api.ok("yantai_application_list", limit=2, offset=1)["results"]) == 2
    assert api.ok("yantai_application_list", page=2 ** 62, limit=100)["results"] == []


@pytest.mark.parametrize(("data", "key"), [
    ({"status": "late"}, "status"), ({"kind": "game"}, "kind"), ({"limit": 0}, "limit"),
    ({"offset": "x"}, "offset"), ({"page": 0}, "page"), ({"page": "1e3"}, "page"),
    ({"mine": "maybe"}, "mine"), ({"q": ["a"]}, "q"), ({"dataset": {"id": "x"}}, "dataset"),
    ({"dataset": "no-such-dataset"}, "dataset"), ({"organization": "nowhere"}, "organization"),
])
def test_a_bad_list_is_a_409(app_town, data, key):
    error = app_town["anonymous"].errors("yantai_application_list", **data)
    assert key in error


def test_deleting(app_town):
    town = app_town
    pending = _submit(town)
    assert town["stranger"].errors("yantai_application_delete", id=pending["id"])[
        "__type"] == "Not Found Error"
    assert town["citizen"].ok("yantai_application_delete", id=pending["id"]) == {
        "id": pending["id"]}
    assert model.Session.query(ApplicationDataset).count() == 0
    published = _submit(town)
    town["editor"].ok("yantai_application_review", id=published["id"], decision="approve")
    error = town["citizen"].errors("yantai_application_delete", id=published["id"])
    assert error["__type"] == "Authorization Error"
    town["reviewer"].ok("yantai_application_delete", id=published["id"])
    _not_found(town["anonymous"].errors("yantai_application_show", id=published["id"]))


@pytest.mark.parametrize(("who", "changes", "key"), [
    ("citizen", {"created": "2026-11-02T09:00:00+08:00"}, "created"),
    ("citizen", {"submitter": "someone"}, "submitter"),
    ("sysadmin", {"created": "2099-01-01T00:00:00+08:00"}, "created"),
    ("sysadmin", {"submitter": "no-such-user"}, "submitter"),
])
def test_only_a_sysadmin_imports_an_earlier_application(app_town, who, changes, key):
    error = app_town[who].errors("yantai_application_create", **BUS_APP,
                                 datasets=[app_town["dataset"]["name"]], **changes)
    assert set(error) == {"__type", key}


def test_an_imported_application_is_the_submitters(app_town):
    town = app_town
    imported = _submit(town, who="sysadmin", submitter=town["citizen_name"],
                       created="2026-11-02T09:00:00+08:00")
    assert imported["created"].startswith("2026-11-02T01:00")
    assert town["citizen"].ok("yantai_application_show", id=imported["id"])["mine"] is True
    town["sysadmin"].ok("yantai_application_review", id=imported["id"], decision="approve")


def test_anonymous_users_cannot_submit(app_town):
    error = app_town["anonymous"].errors("yantai_application_create", **BUS_APP,
                                         datasets=[app_town["dataset"]["name"]])
    assert error["__type"] == "Authorization Error"


def test_the_migration_goes_down_and_up_again(app_town):
    import ckan.plugins.toolkit as tk
    import sqlalchemy as sa

    _submit(app_town)
    command = [str(pathlib.Path(sys.executable).parent / "ckan"), "-c", tk.config["__file__"],
               "db"]
    model.Session.remove()
    tables = sa.text("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'yantai_application%'")
    for step, expected in ((["downgrade", "-p", "yantai", "--version", "c2d8a5f1e7b3"], 0),
                           (["upgrade", "-p", "yantai"], 2)):
        done = subprocess.run(command + step, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert model.Session.execute(tables).scalar() == expected
        model.Session.remove()
    assert _submit(app_town)["status"] == "pending"


def test_a_masked_number_cannot_be_read_back_through_search(app_town):
    """The texts are kept as shown: searching digit by digit finds nothing behind the mask."""
    town = app_town
    submitted = _submit(town, description="问题反馈请拨打联系电话13912345678，工作日答复。")
    town["editor"].ok("yantai_application_review", id=submitted["id"], decision="approve")
    assert "139****5678" in town["anonymous"].ok("yantai_application_show",
                                                 id=submitted["id"])["description"]
    for q in ("1391234", "13912345678", "2345"):
        assert town["anonymous"].ok("yantai_application_list", q=q)["count"] == 0, q
    assert town["anonymous"].ok("yantai_application_list", q="139****5678")["count"] == 1


def test_the_department_filter_does_not_reveal_a_hidden_dataset(app_town):
    town = app_town
    submitted = _submit(town, who="editor", datasets=[town["closed"]["name"],
                                                      town["clinics"]["name"]])
    town["other_editor"].ok("yantai_application_review", id=submitted["id"], decision="approve")
    transport = town["transport"]["name"]
    assert town["anonymous"].ok("yantai_application_list", organization=transport)["count"] == 0
    assert town["editor"].ok("yantai_application_list", organization=transport)["count"] == 1


def test_an_encoded_nul_in_a_filter_is_dropped_not_a_500(app_town):
    ref = f"/dataset/{app_town['dataset']['name']}%00"
    # read as the dataset's page (the NUL dropped, as invisible characters are)
    assert app_town["anonymous"].ok("yantai_application_list", dataset=ref)["count"] == 0
    error = app_town["anonymous"].errors("yantai_application_list", organization=ref)
    assert set(error) == {"__type", "organization"}


def test_an_encoded_nul_in_a_submission_is_no_500(app_town):
    error = app_town["citizen"].errors("yantai_application_create", **{
        **BUS_APP, "datasets": [f"/dataset/{app_town['dataset']['name']}%00x"]})
    assert set(error) == {"__type", "datasets"}
