"""Classified content is refused on every write path and leaves no trace but the audit record:
nothing in PostgreSQL, Solr, the file store, the activity stream or the logs."""
from __future__ import annotations

import io
import logging
import os
import pathlib

import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
from ckan.lib import search
from ckan.tests import factories as ckan_factories

from ckanext.yantai.model import AuditEntry
from tests import factories
from tests.api import Api

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

SECRET = "绝密工程代号寒梅"  # never to be found anywhere after a refusal
MESSAGE = "不得含有密级标志（如“秘密★”“机密”“绝密”）：本平台为非涉密系统，涉密数据应在涉密网络中处理"


def files_under(path: str) -> list[pathlib.Path]:
    return [p for p in pathlib.Path(path).rglob("*") if p.is_file()]


def nothing_stored() -> None:
    """No trace of SECRET in the database (any table), the index or the file store."""
    with model.meta.engine.connect() as conn:
        tables = [r[0] for r in conn.exec_driver_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public'")]
        for table in tables:
            hit = conn.exec_driver_sql(
                f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE %s', (f"%{SECRET}%",))
            assert hit.scalar() == 0, table
    assert search.query_for(model.Package).run({"q": SECRET})["count"] == 0
    storage = tk.config.get("ckan.storage_path")
    for f in files_under(os.path.join(storage, "resources")) if storage else []:
        assert SECRET.encode("utf-8") not in f.read_bytes(), f


@pytest.fixture
def editor(app):
    user = ckan_factories.UserWithToken()
    org = factories.Organization(users=[{"name": user["name"], "capacity": "editor"}])
    return Api(app, user["token"]), org, user


@pytest.mark.parametrize("where", ["title", "notes", "resource name", "resource description"])
def test_markings_in_metadata_are_refused(editor, where, caplog):
    api, org, user = editor
    fields = {"title": "公交线路", "notes": "说明"}
    resource = {"name": "数据", "url": "http://example.com/a.csv"}
    marked = f"秘密★10年 {SECRET}"
    if where in ("title", "notes"):
        fields[where] = marked
    else:
        resource[where.split()[1]] = marked
    caplog.set_level(logging.DEBUG)
    body = api.call("package_create", **{
        **dataset_fields(org), **fields, "resources": [resource]})
    assert body["success"] is False
    text = str(body["error"])
    assert MESSAGE in text and SECRET not in text
    nothing_stored()
    assert SECRET not in caplog.text
    entries = model.Session.query(AuditEntry).all()
    assert [(e.event, e.actor, e.organization_id) for e in entries] == [
        ("classified_refused", user["name"], org["id"])]
    assert entries[0].detail["rule"] == "level_star"
    assert SECRET not in str(entries[0].detail)


def dataset_fields(org) -> dict:
    return {"name": "gong-jiao", "owner_org": org["id"], "resource_category": "2-02-003",
            "resource_code": "2-02-003/00001", "domain": ["transport"],
            "share_type": "unconditional", "share_method": "file", "open_type": "open",
            "update_cycle": "monthly", "info_items": [{"name": "线路", "data_type": "string"}],
            "contact_office": "数据科", "contact_phone": "0535-6788888"}


@pytest.mark.parametrize("level", ["secret", "confidential", "top_secret"])
def test_a_classified_security_class_is_refused_even_for_sysadmins(sysadmin_api, level):
    org = factories.Organization()
    error = sysadmin_api.errors("package_create", title=SECRET, notes="x",
                                **dataset_fields(org), security_class=level)
    assert error["security_class"]
    nothing_stored()


def test_updates_are_refused_and_the_dataset_stays_as_it_was(editor):
    api, org, _ = editor
    dataset = factories.Dataset(owner_org=org["id"])
    before = api.ok("package_show", id=dataset["id"])
    activities = len(api.ok("package_activity_list", id=dataset["id"],
                            include_hidden_activity=True))
    error = api.errors("package_patch", id=dataset["id"], notes=f"密级：机密 {SECRET}")
    assert error["notes"] == [MESSAGE]
    after = api.ok("package_show", id=dataset["id"])
    assert after["metadata_modified"] == before["metadata_modified"]
    nothing_stored()
    assert len(api.ok("package_activity_list", id=dataset["id"],
                      include_hidden_activity=True)) == activities


@pytest.mark.parametrize("filename,content", [
    ("data.csv", f"标题,内容\n机密★ {SECRET},1\n".encode("gb18030")),
    ("data.csv", f"\ufeff绝密 {SECRET}\n".encode("utf-8")),
    ("data.txt", f"文件头\n秘密级 {SECRET}\n".encode("utf-8")),
])
def test_uploads_with_markings_in_their_first_lines_never_reach_the_file_store(
        editor, app, filename, content):
    api, org, user = editor
    dataset = factories.Dataset(owner_org=org["id"])
    storage = tk.config["ckan.storage_path"]
    files_before = files_under(storage)
    response = app.post("/api/3/action/resource_create", headers=api.headers,
                        data={"package_id": dataset["id"], "name": "上传",
                              "upload": (io.BytesIO(content), filename)}, status=None)
    body = response.json
    assert body["success"] is False
    assert body["error"]["upload"] == [MESSAGE]
    assert files_under(storage) == files_before
    assert api.ok("package_show", id=dataset["id"])["num_resources"] == 0
    nothing_stored()
    entry = model.Session.query(AuditEntry).one()
    assert (entry.event, entry.package_id, entry.detail["fields"]) == (
        "classified_refused", dataset["id"], ["upload"])


def test_everyday_words_pass(editor):
    api, org, _ = editor
    created = api.ok("package_create", title="企业信用信息", notes="涉及商业秘密的字段已脱敏，不涉及国家秘密。",
                     **dataset_fields(org))
    assert created["notes"].startswith("涉及商业秘密")


def test_the_web_form_shows_the_chinese_error(editor, app):
    api, org, _ = editor
    dataset = factories.Dataset(owner_org=org["id"])
    page = app.post(f"/dataset/edit/{dataset['name']}", headers=api.headers,
                    data={**{k: v for k, v in api.ok("package_show", id=dataset["id"]).items()
                             if isinstance(v, str)}, "title": f"绝密 {SECRET}", "save": ""})
    text = page.get_data(as_text=True)
    assert MESSAGE in text
    nothing_stored()
