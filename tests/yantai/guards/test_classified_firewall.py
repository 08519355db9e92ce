"""Classified content is refused on every write path and leaves no trace but the audit record:
nothing in PostgreSQL, Solr, the file store, the activity stream or the logs."""
from __future__ import annotations

import io
import logging
import os
import pathlib
import zipfile
from typing import cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
import sqlalchemy as sa
from ckan.lib import search
from ckan.tests import factories as ckan_factories

from ckanext.yantai.model import AuditEntry
from tests import factories
from tests.api import Api

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

SECRET = "绝密工程代号寒梅"  # never to be found anywhere after a refusal
MESSAGE = ("不得含有密级标志（如“秘密★”“机密”“绝密”）："
           "本平台为非涉密系统，涉密数据应在涉密网络中处理")


def files_under(path: str) -> list[pathlib.Path]:
    return [p for p in pathlib.Path(path).rglob("*") if p.is_file()]


def nothing_stored(text: str = SECRET) -> None:
    """No trace of the text in the database (any table), the index or the file store."""
    with cast(sa.engine.Engine, model.meta.engine).connect() as conn:
        tables = [r[0] for r in conn.exec_driver_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public'")]
        for table in tables:
            hit = conn.exec_driver_sql(
                f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE %s',
                (f"%{text}%",))  # pyright: ignore[reportArgumentType]  # psycopg2 takes a tuple
            assert hit.scalar() == 0, table
    assert search.query_for(model.Package).run({"q": text})["count"] == 0
    storage = tk.config.get("ckan.storage_path")
    for f in files_under(os.path.join(storage, "resources")) if storage else []:
        assert text.encode("utf-8") not in f.read_bytes(), f


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
    ("data.csv", f"\ufeff绝密 {SECRET}\n".encode()),
    ("data.txt", f"文件头\n秘密级 {SECRET}\n".encode()),
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
    created = api.ok("package_create", title="企业信用信息",
                     notes="涉及商业秘密的字段已脱敏，不涉及国家秘密。", **dataset_fields(org))
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


# -- issue 13, item 5: disguises, fields never checked, uploads read whole -----------------------

CANARY = "寒梅工程乙"  # no marking of its own: what must not be stored when its field is refused
DISGUISES = ["绝 密★", "机　密★", "絕密", "機密", "密級：機密", "绝\u200b密", "秘密⭐",
             "密-级：秘密", "密 级:秘密", "绝**密**", "绝&#23494;", "绝<!-- -->密", "祕密★",
             "㊙密★", "秘密＊"]


def audit_entries() -> list[AuditEntry]:
    return model.Session.query(AuditEntry).order_by(AuditEntry.id).all()


def test_disguised_markings_are_refused(editor):
    api, org, user = editor
    for disguise in DISGUISES:
        error = api.errors("package_create", title=f"{disguise}{CANARY}", notes="说明",
                           **dataset_fields(org))
        assert error["title"] == [MESSAGE], disguise
    nothing_stored(CANARY)
    entries = audit_entries()
    assert len(entries) == len(DISGUISES)
    assert all(CANARY not in str(e.detail) and e.actor == user["name"] for e in entries)


@pytest.mark.parametrize("field,change", [
    ("tags", {"tags": [{"name": "公交"}, {"name": f"機密{CANARY}"}]}),
    ("tag_string", {"tag_string": f"公交,绝\u200b密{CANARY}"}),
    ("extras", {"extras": [{"key": "备注", "value": f"秘密⭐{CANARY}"}]}),
    ("extras", {"extras": [{"key": f"密级：秘密{CANARY}", "value": "x"}]}),
    ("open_condition", {"open_type": "conditional", "open_condition": f"密 级:秘密{CANARY}"}),
    ("share_condition", {"share_type": "conditional",
                         "share_condition": f"机　密★{CANARY}"}),
    ("contact_office", {"contact_office": f"绝**密**办{CANARY}"}),
    ("info_items", {"info_items": [{"name": f"绝&#23494;{CANARY}", "data_type": "string"}]}),
    ("resources", {"resources": [{"name": "数据", "url": "http://example.com/a.csv",
                                  "format": f"絕密{CANARY}"}]}),
    ("resources", {"resources": [{"name": "数据",
                                  "url": f"http://example.com/机密★{CANARY}.csv"}]}),
    ("resources", {"resources": [{"name": "数据", "url": "http://example.com/a.csv",
                                  "note": {"deep": [f"秘密✩{CANARY}"]}}]}),
])
def test_every_field_of_a_dataset_is_checked(editor, field, change):
    api, org, _ = editor
    error = api.errors("package_create", title="公交线路", notes="说明",
                       **{**dataset_fields(org), **change})
    assert field in error, error
    assert MESSAGE in str(error[field])
    nothing_stored(CANARY)
    entry = model.Session.query(AuditEntry).one()
    assert entry.event == "classified_refused" and CANARY not in str(entry.detail)


def test_patches_with_disguises_are_refused_and_change_nothing(editor):
    api, org, _ = editor
    dataset = factories.Dataset(owner_org=org["id"])
    before = api.ok("package_show", id=dataset["id"])
    for change in ({"notes": f"绝<!-- -->密{CANARY}"}, {"tags": [{"name": f"秘密⭐{CANARY}"}]},
                   {"contact_office": f"密-级：秘密{CANARY}"},
                   {"resources": [{"name": "数据", "url": "http://example.com/a.csv",
                                   "description": f"絕密{CANARY}"}]}):
        assert api.call("package_patch", id=dataset["id"], **change)["success"] is False
    after = api.ok("package_show", id=dataset["id"])
    assert after["metadata_modified"] == before["metadata_modified"]
    nothing_stored(CANARY)


def test_everyday_words_pass_in_every_field(editor):
    api, org, _ = editor
    created = api.ok("package_create", title="企业信用信息", notes="不涉及国家秘密。",
                     **{**dataset_fields(org), "tags": [{"name": "商业秘密"}],
                        "contact_office": "技术秘密保护科",
                        "info_items": [{"name": "商业机密说明", "data_type": "string"}]})
    assert created["tags"][0]["name"] == "商业秘密"


def _xlsx(fill) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    fill(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _titled(book) -> None:
    book.active.title = "絕密"
    book.active.append(["名称", CANARY])


def _commented(book) -> None:
    from openpyxl.comments import Comment

    book.active.append(["名称", CANARY])
    book.active["A1"].comment = Comment("机 密★", "作者")


UPLOADS = {
    "line 30": ("a.csv", ("名称,说明\n" * 29 + f"项目,秘密⭐{CANARY}\n").encode()),
    "past 64 KB": ("a.csv", ("线路,站点\n" * 20_000 + f"项目,绝\u200b密{CANARY}\n").encode()),
    "sheet title, named .csv": ("a.csv", _xlsx(_titled)),
    "comment": ("a.xlsx", _xlsx(_commented)),
    "header": ("a.xlsx", _xlsx(lambda b: b.active.append([f"密级：秘密{CANARY}", "b"]))),
    "docx": ("a.docx", _zip({"word/document.xml":
                             f'<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>绝</w:t></w:r>'
                             f'<w:r><w:t>密{CANARY}</w:t></w:r></w:p></w:body></w:document>'})),
    "zip": ("a.zip", _zip({"data/a.csv": f"名称\n机密★{CANARY}\n"})),
    "big5": ("a.csv", ("項目名稱,說明\n" * 50 + "某項目,密級：機密\n").encode("big5")),
}


@pytest.mark.parametrize("case", sorted(UPLOADS))
def test_uploads_are_read_whole_by_content(editor, app, case):
    api, org, _ = editor
    filename, content = UPLOADS[case]
    dataset = factories.Dataset(owner_org=org["id"])
    storage = tk.config["ckan.storage_path"]
    files_before = files_under(storage)
    response = app.post("/api/3/action/resource_create", headers=api.headers,
                        data={"package_id": dataset["id"], "name": "上传",
                              "upload": (io.BytesIO(content), filename)}, status=None)
    assert response.json["success"] is False
    assert response.json["error"]["upload"] == [MESSAGE]
    assert files_under(storage) == files_before
    nothing_stored(CANARY)
    entry = model.Session.query(AuditEntry).one()
    assert entry.detail["fields"] == ["upload"] and entry.package_id == dataset["id"]


def _cell_bomb() -> bytes:
    """Item 8: one row of a million cells, 52 KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<worksheet xmlns="x"><sheetData><row r="1">')
            for _ in range(100):  # in runs of 10,000 cells
                sheet.write(b'<c t="n"><v>1</v></c>' * 10_000)
            sheet.write(b"</row></sheetData></worksheet>")
    return buffer.getvalue()


def _encrypted_zip() -> bytes:
    data = bytearray(_zip({"a.csv": "名称\n公交\n"}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + offset] |= 0x1
    return bytes(data)


UNREADABLE = "文件被拒绝：无法完整读取以检查其中是否含有密级标志"


@pytest.mark.parametrize("filename,content,reason", [
    ("a.zip", b"PK\x03\x04 not an archive at all", "压缩包无法读取"),
    ("a.zip", _encrypted_zip(), "设有密码"),
    ("bomb.xlsx", _cell_bomb(), "压缩包"),  # refused by its expansion ratio, unread
])
def test_uploads_that_cannot_be_read_are_refused(editor, app, filename, content, reason):
    api, org, user = editor
    dataset = factories.Dataset(owner_org=org["id"])
    response = app.post("/api/3/action/resource_create", headers=api.headers,
                        data={"package_id": dataset["id"], "name": "上传",
                              "upload": (io.BytesIO(content), filename)}, status=None)
    assert response.status_code == 409
    [text] = response.json["error"]["upload"]
    assert text.startswith(UNREADABLE) and reason in text
    entry = model.Session.query(AuditEntry).one()
    assert (entry.detail["rule"], entry.actor) == ("unreadable", user["name"])
    assert api.ok("package_show", id=dataset["id"])["num_resources"] == 0


def test_an_upload_past_the_size_cap_is_refused(editor, app, ckan_config, monkeypatch):
    api, org, _ = editor
    monkeypatch.setitem(ckan_config, "ckanext.yantai.upload.max_bytes", 1024)
    dataset = factories.Dataset(owner_org=org["id"])
    response = app.post("/api/3/action/resource_create", headers=api.headers,
                        data={"package_id": dataset["id"], "name": "上传",
                              "upload": (io.BytesIO(b"a,b\n" * 1000), "a.csv")}, status=None)
    [text] = response.json["error"]["upload"]
    assert text.startswith(UNREADABLE) and "0.0009765" in text


def test_a_disclosure_upload_is_bounded_before_openpyxl(app):
    """双公示 files are read into records whole: a sheet past the record limits (here a
    wide row that compresses poorly, so that no ratio stops it) is refused while it streams."""
    from ckanext.yantai.disclosure import files

    buffer = io.BytesIO()
    with (zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive,
          archive.open("xl/worksheets/sheet1.xml", "w") as sheet):
        sheet.write(b'<worksheet xmlns="x"><sheetData><row r="1">')
        for start in range(0, 100_000, 10_000):
            sheet.write(b"".join(b"<c><v>%d</v></c>" % i
                                 for i in range(start, start + 10_000)))
        sheet.write(b"</row></sheetData></worksheet>")
    with app.flask_app.test_request_context():
        with pytest.raises(tk.ValidationError) as error:
            files.read_records(io.BytesIO(buffer.getvalue()), "records.xlsx")
        assert error.value.error_dict == {"upload": ["工作表超过第 200 列"]}
        wide = ("a," * 100_000 + "b\n1\n").encode()
        with pytest.raises(tk.ValidationError) as error:
            files.read_records(io.BytesIO(wide), "records.csv")
        assert error.value.error_dict == {"upload": ["工作表超过第 200 列"]}


# -- departments, groups, views, users ------------------------------------------------------------

def test_department_texts_are_checked(editor, sysadmin_api):
    api, org, user = editor
    admin = ckan_factories.UserWithToken()
    dept = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"}])
    dept_api = Api(api.app, admin["token"])
    before = dept_api.ok("organization_show", id=dept["id"])
    for change in ({"description": f"本部门负责绝<!-- -->密{CANARY}"}, {"title": f"機密{CANARY}办"},
                   {"extras": [{"key": "备注", "value": f"秘密⭐{CANARY}"}]}):
        error = dept_api.errors("organization_patch", id=dept["id"], **change)
        assert MESSAGE in str(error)
    assert dept_api.ok("organization_show", id=dept["id"])["description"] == \
        before["description"]
    error = sysadmin_api.errors("organization_create", name="jm-ban", title=f"绝 密★{CANARY}")
    assert error["title"] == [MESSAGE]
    error = sysadmin_api.errors("group_create", name="jm-group",
                                description=f"密级：秘密{CANARY}")
    assert error["description"] == [MESSAGE]
    nothing_stored(CANARY)
    entries = audit_entries()
    assert len(entries) == 5
    assert entries[0].organization_id == dept["id"]
    assert {e.detail["object"] for e in entries} == {"organization", "group"}
    sysadmin_api.ok("group_create", name="ok-group", description="不涉及国家秘密")


def test_view_texts_are_checked(editor):
    api, org, _ = editor
    dataset = factories.Dataset(owner_org=org["id"])
    resource = api.ok("resource_create", package_id=dataset["id"], name="数据",
                      url="http://example.com/a.png", format="PNG")
    error = api.errors("resource_view_create", resource_id=resource["id"],
                       view_type="image_view", title=f"绝\u200b密{CANARY}")
    assert error["title"] == [MESSAGE]
    error = api.errors("resource_view_create", resource_id=resource["id"],
                       view_type="image_view", title="图", description=f"秘密⭐{CANARY}")
    assert error["description"] == [MESSAGE]
    nothing_stored(CANARY)
    entry = audit_entries()[0]
    assert (entry.package_id, entry.organization_id) == (dataset["id"], org["id"])


def test_a_users_about_is_checked(editor):
    api, _, user = editor
    error = api.errors("user_patch", id=user["id"], about=f"负责機密★{CANARY}")
    assert error["about"] == [MESSAGE]
    nothing_stored(CANARY)


@pytest.mark.usefixtures("clean_datastore")
def test_datastore_rows_are_checked(editor):
    api, org, _ = editor
    dataset = factories.Dataset(owner_org=org["id"])
    table = api.ok("datastore_create", resource={"package_id": dataset["id"], "name": "名录"},
                   fields=[{"id": "名称", "type": "text"}],
                   records=[{"名称": "普通企业"}])["resource_id"]
    for records, fields in (([{"名称": f"絕 密★{CANARY}"}], None),
                            ([{"名称": f"机<!-- -->密{CANARY}"}], None),
                            ([{f"密级：秘密{CANARY}": "x"}], None),
                            ([], [{"id": "名称", "type": "text",
                                   "info": {"notes": f"機　密★{CANARY}"}}])):
        data = {"resource_id": table, "records": records}
        if fields:
            data["fields"] = fields
        body = api.call("datastore_create" if fields else "datastore_upsert",
                        **data, **({} if fields else {"method": "insert"}))
        assert body["success"] is False and body["error"]["records"] == [MESSAGE], body
    rows = api.ok("datastore_search", resource_id=table)["records"]
    assert [r["名称"] for r in rows] == ["普通企业"]
    assert CANARY not in str(api.ok("datastore_info", id=table))
    assert {e.event for e in audit_entries()} == {"classified_refused"}
