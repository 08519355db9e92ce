"""Harvester yantai_release: a department's manifest served over loopback HTTP (and from a drop
folder) becomes datasets; re-runs change nothing; bad entries and sources are reported in Chinese;
classified entries leave no trace; tiers never widen; a killed harvest resumes."""
from __future__ import annotations

import hashlib
import json
from typing import Any, cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
import sqlalchemy as sa
from ckan.lib.uploader import get_resource_uploader
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from ckanext.harvest.model import HarvestJob, HarvestObject

from ckanext.yantai.harvest import release, runner
from tests import factories

pytestmark = [pytest.mark.usefixtures("clean_db", "clean_index", "with_request_context"),
              pytest.mark.usefixtures("feeds_allowed"),
              pytest.mark.ckan_config("ckanext.yantai.harvest.allowed_hosts", "127.0.0.1:9")]

CSV_A = "线路名称,起点,终点\n1路,火车站,莱山区政府\n䶮字测试,幸福,芝罘岛\n".encode()
CSV_B = "站点名称,经度,纬度\n南大街,121.39,37.53\n".encode()


def entry(code: str, title: str, **extra: Any) -> dict[str, Any]:
    data = {
        "resource_code": f"2-02-003/{code}", "title": title, "notes": f"{title}的说明。",
        "resource_category": "2-02-003", "domain": ["transport"], "share_type": "unconditional",
        "share_method": "file", "open_type": "open", "update_cycle": "monthly",
        "info_items": [{"name": "线路名称", "data_type": "string"}],
        "contact_office": "数据管理科", "contact_phone": "0535-6788888", "tags": ["公交"],
        "resources": [],
    }
    data.update(extra)
    return data


def manifest(org: dict[str, Any], *entries: dict[str, Any]) -> bytes:
    return json.dumps({"format": "yantai-release", "version": 1,
                       "publisher": {"name": org["title"], "dept_code": org["dept_code"]},
                       "datasets": list(entries)}, ensure_ascii=False).encode()


@pytest.fixture
def world(feed_server):
    sysadmin = ckan_factories.Sysadmin()
    org = factories.Organization(title="烟台市交通运输局")
    source = call_action("harvest_source_create", context={"user": sysadmin["name"]},
                         name="jtj-release", title="交通运输局发布清单",
                         url=feed_server.url("/release/manifest.json"),
                         source_type="yantai_release", owner_org=org["id"])
    return {"org": org, "source": source, "server": feed_server, "sysadmin": sysadmin}


def publish(world, *entries, files: dict[str, bytes] | None = None) -> None:
    world["server"].files["/release/manifest.json"] = manifest(world["org"], *entries)
    for name, content in (files or {}).items():
        world["server"].files[f"/release/{name}"] = content


def harvest(world) -> dict[str, Any]:
    job = runner.run(world["source"]["id"])
    assert job["status"] == "Finished", job
    return job


def datasets(org_id: str, state: str | None = "active") -> dict[str, dict[str, Any]]:
    rows = model.Session.query(model.Package).filter_by(owner_org=org_id, type="dataset")
    if state:
        rows = rows.filter_by(state=state)
    out = {}
    for pkg in rows:
        shown = call_action("package_show", context={"ignore_auth": True}, id=pkg.id)
        out[shown["resource_code"]] = shown
    return out


def stored_file(resource: dict[str, Any]) -> bytes:
    with open(get_resource_uploader(resource).get_path(resource["id"]), "rb") as f:
        return f.read()


def activity_count(package_id: str) -> int:
    return cast(int, model.Session.execute(
        sa.text("SELECT count(*) FROM activity WHERE object_id = :id"),
        {"id": package_id}).scalar())


def errors_of(job: dict[str, Any]) -> list[str]:
    report = runner.report(job["id"])
    messages = [e["message"] for e in report["gather_errors"]]
    for obj in report["object_errors"].values():
        messages += [e["message"] for e in obj["errors"]]
    return messages


def test_create_rerun_update_withdraw_and_return(world):
    a = entry("00001", "公交线路", resources=[
        {"name": "公交线路表", "file": "files/a.csv", "format": "CSV"},
        {"name": "实时到站接口", "url": "https://api.example.cn/bus", "format": "API"}])
    b = entry("00002", "公交站点", resources=[{"name": "站点表", "file": "files/b.csv",
                                              "format": "CSV",
                                              "sha256": hashlib.sha256(CSV_B).hexdigest()}])
    publish(world, a, b, files={"files/a.csv": CSV_A, "files/b.csv": CSV_B})

    job = harvest(world)
    assert (job["stats"]["added"], job["stats"]["errored"]) == (2, 0), errors_of(job)
    found = datasets(world["org"]["id"])
    assert set(found) == {"2-02-003/00001", "2-02-003/00002"}
    first = found["2-02-003/00001"]
    assert first["title"] == "公交线路" and first["organization"]["id"] == world["org"]["id"]
    assert [t["name"] for t in first["tags"]] == ["公交"]
    by_name = {r["name"]: r for r in first["resources"]}
    assert by_name["公交线路表"]["url_type"] == "upload"
    assert stored_file(by_name["公交线路表"]) == CSV_A  # 䶮 intact
    assert by_name["公交线路表"]["hash"] == hashlib.sha256(CSV_A).hexdigest()
    assert by_name["实时到站接口"]["url"] == "https://api.example.cn/bus"

    # Unchanged source: nothing changes at all.
    before = {code: (d["metadata_modified"], [r["id"] for r in d["resources"]],
                     activity_count(d["id"])) for code, d in found.items()}
    job = harvest(world)
    assert job["stats"]["not modified"] == 2 and job["stats"]["added"] == 0, job["stats"]
    after = {code: (d["metadata_modified"], [r["id"] for r in d["resources"]],
                     activity_count(d["id"])) for code, d in datasets(world["org"]["id"]).items()}
    assert after == before

    # A changed title and file; B leaves the manifest.
    new_csv = CSV_A + "2路,海滨广场,福山区\n".encode()
    publish(world, {**a, "title": "公交线路（更新）"}, files={"files/a.csv": new_csv})
    job = harvest(world)
    assert (job["stats"]["updated"], job["stats"]["deleted"]) == (1, 1), job["stats"]
    found = datasets(world["org"]["id"])
    assert set(found) == {"2-02-003/00001"}
    updated = {r["name"]: r for r in found["2-02-003/00001"]["resources"]}
    assert updated["公交线路表"]["id"] == by_name["公交线路表"]["id"]
    assert stored_file(updated["公交线路表"]) == new_csv
    withdrawn = datasets(world["org"]["id"], state="deleted")
    assert set(withdrawn) == {"2-02-003/00002"}

    # B comes back: the same dataset again, not a second one.
    publish(world, {**a, "title": "公交线路（更新）"}, b)
    job = harvest(world)
    assert job["stats"]["errored"] == 0, errors_of(job)
    found = datasets(world["org"]["id"], state=None)
    assert set(found) == {"2-02-003/00001", "2-02-003/00002"}
    assert found["2-02-003/00002"]["id"] == withdrawn["2-02-003/00002"]["id"]
    assert found["2-02-003/00002"]["state"] == "active"


def test_bad_entries_are_reported_in_chinese_and_the_rest_imported(world):
    good = entry("00001", "公交线路")
    bad_phone = entry("00002", "出租车", contact_phone="13912345678")
    publish(world, good, bad_phone, "not an object", {**entry("00003", "重复"),
                                                      "resource_code": "2-02-003/00001"})
    job = harvest(world)
    messages = errors_of(job)
    assert set(datasets(world["org"]["id"])) == {"2-02-003/00001"}, messages
    assert any("第 3 条：不是 JSON 对象" in m for m in messages), messages
    assert any("重复出现" in m for m in messages), messages
    assert any("contact_phone" in m and "手机" in m for m in messages), messages


def test_an_entry_that_cannot_be_read_withdraws_nothing(world):
    publish(world, entry("00001", "公交线路"), entry("00002", "公交站点"))
    harvest(world)
    publish(world, entry("00001", "公交线路"), {"title": "没有资源代码"})
    job = harvest(world)
    assert job["stats"]["deleted"] == 0
    assert set(datasets(world["org"]["id"])) == {"2-02-003/00001", "2-02-003/00002"}


def test_an_empty_manifest_keeps_the_catalogue_unless_configured(world):
    publish(world, entry("00001", "公交线路"))
    harvest(world)
    publish(world)
    job = harvest(world)
    assert any("未列出任何数据集" in m for m in errors_of(job))
    assert set(datasets(world["org"]["id"])) == {"2-02-003/00001"}


def test_another_departments_manifest_is_refused(world):
    other = factories.Organization()
    world["server"].files["/release/manifest.json"] = manifest(other, entry("00001", "公交线路"))
    job = harvest(world)
    assert any("发布部门代码" in m for m in errors_of(job))
    assert datasets(world["org"]["id"]) == {}


@pytest.mark.parametrize("body, expected", [
    (b"<html>oops</html>", "不是有效的 UTF-8 JSON"),
    (json.dumps({"format": "other"}).encode(), "须声明"),
])
def test_broken_manifests_give_one_clear_error(world, body, expected):
    world["server"].files["/release/manifest.json"] = body
    job = harvest(world)
    assert any(expected in m for m in errors_of(job)), errors_of(job)


def test_an_unreachable_source_is_reported_and_others_still_run(world, feed_server):
    sysadmin = world["sysadmin"]
    broken = call_action("harvest_source_create", context={"user": sysadmin["name"]},
                         name="broken-release", url=feed_server.url("/gone/manifest.json"),
                         source_type="yantai_release", owner_org=world["org"]["id"])
    job = runner.run(broken["id"])
    assert any("HTTP 404" in m for m in errors_of(job))
    publish(world, entry("00001", "公交线路"))
    assert harvest(world)["stats"]["added"] == 1


def _everything_stored() -> str:
    """Every text column of every table of the catalogue database, as one string."""
    out = []
    tables = model.Session.execute(sa.text(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json', "
        "'jsonb')")).fetchall()
    for table, column in tables:
        rows = model.Session.execute(sa.text(f'SELECT "{column}"::text FROM "{table}"'))
        out += [r[0] for r in rows if r[0]]
    return "\n".join(out)


def test_classified_entries_and_files_leave_no_trace(world):
    marking = "机密★5年"
    publish(world, entry("00001", f"{marking} 公交线路"), entry("00002", "公交站点", resources=[
        {"name": "站点表", "file": "files/s.csv"}]),
        files={"files/s.csv": f"{marking}\n站点,经度\n".encode()})
    job = harvest(world)
    messages = errors_of(job)
    assert any("第 1 条：含密级标识" in m for m in messages), messages
    assert any("文件 files/s.csv 含密级标识" in m for m in messages), messages
    assert datasets(world["org"]["id"]) == {}
    model.Session.commit()
    assert marking not in _everything_stored()
    events = call_action("yantai_audit_log_list", context={"user": world["sysadmin"]["name"]},
                         organization=world["org"]["name"])["results"]
    assert [e["event"] for e in events] == ["classified_refused", "classified_refused"]


def test_a_tier_from_the_source_never_widens_access(world):
    closed = entry("00001", "公交线路", open_type="closed", share_type="none",
                   share_condition="不共享")
    publish(world, closed)
    harvest(world)
    publish(world, {**closed, "open_type": "open", "share_type": "unconditional",
                    "notes": "新的说明。"})
    harvest(world)
    dataset = datasets(world["org"]["id"])["2-02-003/00001"]
    assert (dataset["open_type"], dataset["share_type"]) == ("closed", "none")
    assert dataset["notes"] == "新的说明。"  # the rest of the edit is saved
    pending = call_action("yantai_tier_change_list",
                          context={"user": world["sysadmin"]["name"]},
                          organization=world["org"]["name"])
    assert [c["proposed"]["open_type"] for c in pending] == ["open"]
    # The next harvest of the same manifest files no second proposal and changes nothing.
    job = harvest(world)
    assert job["stats"]["not modified"] == 1


def test_a_harvest_killed_mid_import_resumes_without_duplicates(world, monkeypatch):
    files = {"files/a.csv": CSV_A, "files/b.csv": CSV_B}
    a = entry("00001", "公交线路", resources=[{"name": "线路表", "file": "files/a.csv"}])
    b = entry("00002", "公交站点", resources=[{"name": "站点表", "file": "files/b.csv"}])
    publish(world, a, b, files=files)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies after the dataset was saved

    with pytest.MonkeyPatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(release.ReleaseHarvester, "_sync_resources", killed)
        runner.run(world["source"]["id"])
    model.Session.rollback()
    stuck = model.Session.query(HarvestJob).filter_by(status="Running").one()

    # The stuck job times out (ckan.harvest.timeout) and is finished with an error.
    model.Session.execute(sa.text(
        "UPDATE harvest_job SET created = created - interval '2 hours', "
        "gather_finished = gather_finished - interval '2 hours' WHERE id = :id"),
        {"id": stuck.id})
    model.Session.execute(sa.text(
        "UPDATE harvest_object SET gathered = gathered - interval '2 hours' "
        "WHERE harvest_job_id = :id"), {"id": stuck.id})
    model.Session.commit()
    model.Session.expire_all()  # CKAN's session keeps loaded rows across commits
    context = {"user": world["sysadmin"]["name"]}
    monkeypatch.setitem(tk.config, "ckan.harvest.timeout", "30")
    call_action("harvest_jobs_run", context=context, source_id=world["source"]["id"])
    timed_out = call_action("harvest_job_show", context=context, id=stuck.id)
    assert timed_out["status"] == "Finished"
    assert any("timeout" in m.lower() for m in errors_of(timed_out))

    job = harvest(world)
    assert job["stats"]["errored"] == 0, errors_of(job)
    found = datasets(world["org"]["id"], state=None)
    assert set(found) == {"2-02-003/00001", "2-02-003/00002"}
    assert model.Session.query(model.Package).filter_by(type="dataset").count() == 2
    assert {code: [stored_file(r) for r in d["resources"]] for code, d in found.items()} == {
        "2-02-003/00001": [CSV_A], "2-02-003/00002": [CSV_B]}
    current = model.Session.query(HarvestObject).filter_by(current=True).count()
    assert current == 2


def test_a_drop_folder_source_is_the_departments_own(world, tmp_path):
    other = factories.Organization()
    (tmp_path / other["name"]).mkdir()
    folder = tmp_path / world["org"]["name"]
    folder.mkdir()
    (folder / "manifest.json").write_bytes(manifest(world["org"], entry(
        "00001", "公交线路", resources=[{"name": "线路表", "file": "a.csv"}])))
    (folder / "a.csv").write_bytes(CSV_A)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(tk.config, "ckanext.yantai.harvest.drop_folder", str(tmp_path))
        for url in (f"drop:{other['name']}", "drop:", "drop:."):  # not this department's
            with pytest.raises(tk.ValidationError) as error:
                call_action("harvest_source_create", context={"user": world["sysadmin"]["name"]},
                            name="jtj-drop", url=url, source_type="yantai_release",
                            owner_org=world["org"]["id"])
            assert f"drop:{world['org']['name']}" in str(error.value.error_dict["url"])
        source = call_action("harvest_source_create",
                             context={"user": world["sysadmin"]["name"]}, name="jtj-drop",
                             url=f"drop:{world['org']['name']}", source_type="yantai_release",
                             owner_org=world["org"]["id"])
        job = runner.run(source["id"])
    assert job["stats"]["added"] == 1, errors_of(job)
    dataset = datasets(world["org"]["id"])["2-02-003/00001"]
    assert stored_file(dataset["resources"][0]) == CSV_A


@pytest.mark.parametrize("url, source_type, expected", [
    ("http://10.0.0.8/feed.json", "yantai_release", "内网"),
    ("http://169.254.169.254/latest", "ckan", "内网"),
    ("file:///etc/passwd", "dcat_rdf", "http(s)"),
    ("drop:jtj", "ckan", "投递目录"),
    ("http://[::1]:5000/", "yantai_release", "内网"),
])
def test_source_urls_are_checked_when_saved(url, source_type, expected):
    sysadmin = ckan_factories.Sysadmin()
    org = factories.Organization()
    with pytest.raises(tk.ValidationError) as error:
        call_action("harvest_source_create", context={"user": sysadmin["name"]},
                    name="bad-source", url=url, source_type=source_type, owner_org=org["id"])
    assert expected in str(error.value.error_dict["url"])


def test_source_config_is_checked():
    sysadmin = ckan_factories.Sysadmin()
    org = factories.Organization()
    with pytest.raises(tk.ValidationError) as error:
        call_action("harvest_source_create", context={"user": sysadmin["name"]},
                    name="bad-config", url="http://127.0.0.1:9/m.json",
                    source_type="yantai_release", owner_org=org["id"],
                    config='{"allow_empty": "yes"}')
    assert "allow_empty" in str(error.value.error_dict)


def test_a_marking_in_any_field_is_refused_before_other_problems_quote_it(world):
    marking = "秘密★5年名单"
    publish(world, entry("00001", "公交线路", resources=[
        {"name": marking, "url": "https://a.example.cn/1"},
        {"name": marking, "url": "https://a.example.cn/2"}]))  # a name used twice, too
    job = harvest(world)
    assert any("第 1 条：含密级标识" in m for m in errors_of(job)), errors_of(job)
    model.Session.commit()
    assert marking not in _everything_stored()


def test_objects_not_imported_are_seen_only_by_who_may_edit_the_source(world, app):
    publish(world, entry("00001", "不予开放的资源", contact_phone="13912345678"))  # fails
    job = harvest(world)
    obj = model.Session.query(HarvestObject).filter_by(harvest_job_id=job["id"]).one()
    assert obj.package_id is None
    stranger = ckan_factories.UserWithToken()
    body = app.post("/api/3/action/harvest_object_show", json={"id": obj.id},
                    headers={"Authorization": stranger["token"]}, status=None).json
    assert body["success"] is False
    assert call_action("harvest_object_show", context={"user": world["sysadmin"]["name"]},
                       id=obj.id)["id"] == obj.id


def test_clearing_is_for_sysadmins_and_never_for_a_disclosure_source(world, app):
    editor = ckan_factories.UserWithToken()
    call_action("organization_member_create", context={"ignore_auth": True},
                id=world["org"]["id"], username=editor["name"], role="admin")
    body = app.post("/api/3/action/harvest_source_clear", json={"id": world["source"]["id"]},
                    headers={"Authorization": editor["token"]}, status=None).json
    assert body["success"] is False
    feed = call_action("harvest_source_create", context={"user": world["sysadmin"]["name"]},
                       name="records", url=world["server"].url("/records.csv"),
                       source_type="yantai_disclosure", owner_org=world["org"]["id"])
    with pytest.raises(tk.ValidationError) as error:
        call_action("harvest_source_clear", context={"user": world["sysadmin"]["name"]},
                    id=feed["id"])
    assert "双公示采集源不能清空" in str(error.value.error_dict)


def test_aborting_jobs_in_bulk_is_for_sysadmins(world, app):
    editor = ckan_factories.UserWithToken()
    call_action("organization_member_create", context={"ignore_auth": True},
                id=world["org"]["id"], username=editor["name"], role="admin")
    job = call_action("harvest_job_create", context={"user": world["sysadmin"]["name"]},
                      source_id=world["source"]["id"], run=False)
    for headers in ({}, {"Authorization": editor["token"]}):
        response = app.post("/api/3/action/harvest_abort_failed_jobs",
                            json={"life_span": 0}, headers=headers, status=None)
        assert response.status_code == 403, response.body
    assert call_action("harvest_job_show", id=job["id"])["status"] == "New"
