"""Previews of uploaded files (previews.py, preview_views.py): tables of CSV/XLSX/JSON uploads,
images and PDFs inline, CKAN's data table over a DataStore table, all bounded and only for
those who may have the data. Real services: uploads to the file store, the DataStore, the web
app."""
from __future__ import annotations

import base64
import io
import json
import re
import zlib

import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from werkzeug.datastructures import FileStorage

from ckanext.yantai import previews
from demo import files
from tests import factories

CANARY = "预览金丝雀7f3a"
# The smallest valid PNG (1×1, grey).
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81yt"
                       "gAAAABJRU5ErkJggg==")


def _pdf() -> bytes:
    """A one-page PDF saying hello."""
    stream = zlib.compress(b"BT /F1 24 Tf 72 720 Td (hello) Tj ET")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
               + b"\nendstream"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


# -- the rules (pure) ------------------------------------------------------------------------------

def _table(fmt: str, data: bytes, **limits: int) -> previews.Table:
    return previews.table(fmt, io.BytesIO(data).read, len(data), previews.Limits(**limits))


@pytest.mark.pure
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_the_encodings_offices_save(encoding):
    data = "站点名称,区县\n烟台火车站,芝罘区\n鹤顶路,莱山区\n".encode(encoding)
    table = _table("CSV", data)
    assert table.columns == ["站点名称", "区县"]
    assert table.rows == [["烟台火车站", "芝罘区"], ["鹤顶路", "莱山区"]]
    assert not table.more_rows and not table.more_columns


@pytest.mark.pure
def test_a_large_csv_shows_its_first_rows_from_its_first_bytes():
    data = ("序号,名称\n" + "".join(f"{i},名称{i}\n" for i in range(300_000))).encode("gb18030")
    reads = []

    def read(n: int) -> bytes:
        reads.append(n)
        return data[:n]

    table = previews.table("CSV", read, len(data), previews.Limits(max_rows=50,
                                                                    text_bytes=4096))
    assert reads == [4097]  # never the whole file
    assert len(table.rows) == 50 and table.more_rows
    assert table.rows[-1] == ["49", "名称49"]


@pytest.mark.pure
def test_a_cut_multibyte_character_or_line_is_never_shown():
    data = ("名称\n" + "烟台市芝罘区" * 20 + "\n" + "莱山区" * 400 + "\n").encode("gb18030")
    table = _table("CSV", data, text_bytes=300)  # in the middle of the third line
    assert table.rows == [["烟台市芝罘区" * 20]] and table.more_rows


@pytest.mark.pure
def test_a_record_cut_inside_a_quoted_value_is_never_shown():
    data = ("名称,说明\n甲,短\n乙,\"第一行\n" + "很长的说明" * 100 + "\"\n").encode()
    table = _table("CSV", data, text_bytes=100)
    assert table.rows == [["甲", "短"]] and table.more_rows


@pytest.mark.pure
def test_columns_and_cells_are_bounded():
    header = ",".join(f"列{i}" for i in range(40))
    data = f"{header}\n{'长' * 500},b\n".encode()
    table = _table("CSV", data, max_columns=10, max_cell_chars=20)
    assert len(table.columns) == 10 and table.more_columns
    assert table.rows[0][0] == "长" * 20 + previews.ELLIPSIS


@pytest.mark.pure
def test_xlsx_first_sheet():
    data = files.to_xlsx(["企业名称", "金额"], [["烟台某公司", 12.5], ["另一家", 3.0]])
    table = _table("XLSX", data)
    assert table.columns == ["企业名称", "金额"]
    assert table.rows == [["烟台某公司", "12.5"], ["另一家", "3"]]


@pytest.mark.pure
@pytest.mark.parametrize("value, columns, rows", [
    ([{"名称": "甲", "数量": 1}, {"名称": "乙", "备注": "无"}], ["名称", "数量", "备注"],
     [["甲", "1", ""], ["乙", "", "无"]]),
    ({"total": 1, "data": [{"a": "x"}]}, ["a"], [["x"]]),
    ([["a", "b"], [1, 2]], ["a", "b"], [["1", "2"]]),
])
def test_json_records(value, columns, rows):
    table = _table("JSON", json.dumps(value, ensure_ascii=False).encode())
    assert (table.columns, table.rows) == (columns, rows)


@pytest.mark.pure
@pytest.mark.parametrize("fmt, data, reason", [
    ("JSON", b'{"a": 1}', "not_tabular"),
    ("JSON", b"[1, 2]", "not_tabular"),
    ("JSON", b"[]", "empty"),
    ("JSON", b"{not json", "unreadable"),
    ("XLSX", b"PK\x03\x04 not really", "unreadable"),
    ("CSV", b"\x00\x01\x02binary", "undecodable"),
    ("CSV", b"", "empty"),
    ("JSON", b"[" + b'{"a": 1},' * 200 + b'{"a": 1}]', "too_large"),
])
def test_what_cannot_be_previewed_says_why(fmt, data, reason):
    with pytest.raises(previews.Unpreviewable) as caught:
        _table(fmt, data, file_bytes=1000)
    assert caught.value.reason == reason


@pytest.mark.pure
@pytest.mark.parametrize("fmt, name, expected", [
    ("csv", "", "CSV"), ("", "a.xlsx", "XLSX"), (".json", "", "JSON"), ("XLS", "a.xls", None),
    ("", "a.pdf", None), ("HTML", "a.csv", None),
])
def test_format_of(fmt, name, expected):
    assert previews.format_of(fmt, name) == expected


# -- on the portal -------------------------------------------------------------------------------

@pytest.fixture
def portal(clean_datastore):
    sysadmin = ckan_factories.Sysadmin()
    org = factories.Organization()
    return {"sysadmin": sysadmin, "org": org}


def _dataset(portal, **fields):
    extra = {"open_condition": "需签署安全承诺书"} if fields.get("open_type") == "conditional" \
        else {}
    return factories.Dataset(owner_org=portal["org"]["id"], user=portal["sysadmin"],
                             **extra, **fields)


def _upload(portal, dataset, data: bytes, filename: str, fmt: str) -> dict:
    return call_action("resource_create", context={"user": portal["sysadmin"]["name"]},
                       package_id=dataset["id"], name=f"文件 {filename}", format=fmt,
                       upload=FileStorage(io.BytesIO(data), filename=filename))


def _views(portal, resource) -> list[dict]:
    return call_action("resource_view_list", context={"user": portal["sysadmin"]["name"]},
                       id=resource["id"])


def _page(app, dataset, resource, **kw) -> str:
    return app.get(f"/dataset/{dataset['name']}/resource/{resource['id']}", **kw).body


def _cells(html: str) -> list[str]:
    """The cells of the page's table preview (none when there is none)."""
    start = html.find('class="yantai-preview-table')
    if start < 0:
        return []
    return re.findall(r"<td>(.*?)</td>", html[start:html.index("</table>", start)])


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_an_uploaded_csv_previews_as_a_table(app, portal, encoding):
    dataset = _dataset(portal)
    data = f"名称,说明\n{CANARY},<b>粗体</b>\n烟台山,\"a,b\"\n".encode(encoding)
    resource = _upload(portal, dataset, data, "stops.csv", "CSV")
    assert [v["view_type"] for v in _views(portal, resource)] == ["yantai_table_view"]
    html = _page(app, dataset, resource)
    cells = _cells(html)
    assert CANARY in cells and "烟台山" in cells and "a,b" in cells
    assert "&lt;b&gt;粗体&lt;/b&gt;" in cells  # the file's text, escaped
    assert "<b>粗体</b>" not in html


def test_an_uploaded_xlsx_and_json_preview_as_tables(app, portal):
    dataset = _dataset(portal)
    xlsx = _upload(portal, dataset, files.to_xlsx(["企业名称", "金额"], [[CANARY, 12.5]]),
                   "fines.xlsx", "XLSX")
    json_res = _upload(portal, dataset, files.to_json(["站点", "序号"], [["鹤顶路", 3]]),
                       "stops.json", "JSON")
    assert "yantai_table_view" in [v["view_type"] for v in _views(portal, xlsx)]
    assert [v["view_type"] for v in _views(portal, json_res)][0] == "yantai_table_view"
    assert {CANARY, "12.5"} <= set(_cells(_page(app, dataset, xlsx)))
    assert {"鹤顶路", "3"} <= set(_cells(_page(app, dataset, json_res)))


def test_images_and_pdfs_show_inline_from_the_portal_itself(app, portal):
    dataset = _dataset(portal)
    image = _upload(portal, dataset, PNG, "map.png", "PNG")
    pdf = _upload(portal, dataset, _pdf(), "notice.pdf", "PDF")
    for resource, tag in ((image, "img"), (pdf, "iframe")):
        assert [v["view_type"] for v in _views(portal, resource)] == ["yantai_file_view"]
        html = _page(app, dataset, resource)
        src = re.search(rf'<{tag} src="([^"]+)"', html)
        assert src, html
        # relative: the portal's own download route, never a remote address
        assert src[1].startswith("/dataset/") and "/download/" in src[1]
        assert app.get(src[1]).status_code == 200


def test_a_huge_file_is_bounded(app, portal):
    dataset = _dataset(portal)
    rows = "".join(f"{i},站点{i}\n" for i in range(400_000))  # ~5 MB
    resource = _upload(portal, dataset, f"序号,名称\n{rows}".encode(), "big.csv", "CSV")
    html = _page(app, dataset, resource)
    assert len(re.findall(r'<td class="yantai-preview-rownum">', html)) == 100
    assert "站点99" in _cells(html) and "站点100" not in _cells(html)
    assert "前 100 行" in html or "first 100 rows" in html


@pytest.mark.ckan_config("ckanext.yantai.preview.file_bytes", "2000")
def test_a_file_too_large_to_read_whole_is_offered_for_download(app, portal):
    dataset = _dataset(portal)
    resource = _upload(portal, dataset, files.to_json(["a"], [[CANARY]] * 200), "big.json",
                       "JSON")
    html = _page(app, dataset, resource)
    assert CANARY not in html
    assert "文件过大" in html or "too large" in html


def test_a_linked_file_is_never_fetched_for_a_preview(portal):
    dataset = _dataset(portal)
    linked = call_action("resource_create", context={"user": portal["sysadmin"]["name"]},
                         package_id=dataset["id"], name="外部链接", format="CSV",
                         url="http://127.0.0.1:1/secret.csv")
    assert [v["view_type"] for v in _views(portal, linked)] == []


def test_a_datastore_table_gets_the_data_table_view(app, portal):
    dataset = _dataset(portal)
    resource = _upload(portal, dataset, "名称\n甲\n".encode(), "t.csv", "CSV")
    call_action("datastore_create", context={"user": portal["sysadmin"]["name"]},
                resource_id=resource["id"], force=True, fields=[{"id": "名称", "type": "text"}],
                records=[{"名称": CANARY}])
    views = [v["view_type"] for v in _views(portal, resource)]
    assert views.count("datatables_view") == 1 and "yantai_table_view" in views
    assert views[0] == "datatables_view"  # the whole table first, the file's start after
    titles = {v["view_type"]: v["title"] for v in _views(portal, resource)}
    assert titles["datatables_view"] == "表格"  # in the site's language, whoever created it
    call_action("datastore_create", context={"user": portal["sysadmin"]["name"]},
                resource_id=resource["id"], force=True, records=[{"名称": "乙"}])
    assert [v["view_type"] for v in _views(portal, resource)].count("datatables_view") == 1


def test_no_preview_of_conditional_data_for_those_without_access(app, portal):
    dataset = _dataset(portal, open_type="conditional")
    resource = _upload(portal, dataset, f"名称\n{CANARY}\n".encode(), "c.csv", "CSV")
    call_action("datastore_create", context={"user": portal["sysadmin"]["name"]},
                resource_id=resource["id"], force=True, fields=[{"id": "名称", "type": "text"}],
                records=[{"名称": CANARY}])
    views = {v["view_type"]: v for v in _views(portal, resource)}
    assert {"yantai_table_view", "datatables_view"} <= set(views)
    table, datatable = views["yantai_table_view"], views["datatables_view"]

    # The resource page: the metadata, no rows, and how to get access.
    html = _page(app, dataset, resource)
    assert CANARY not in html and not _cells(html)
    assert "获得使用权限后方可预览" in html or "who may have it" in html
    # The view pages, by id and with a view described in the request.
    for view in (table, datatable):
        page = app.get(f"/dataset/{dataset['name']}/resource/{resource['id']}/view/{view['id']}",
                       status=404)
        assert CANARY not in page.body
    described = json.dumps({"id": "x", "title": "t", "view_type": "yantai_table_view",
                            "resource_id": resource["id"]})
    page = app.get(f"/dataset/{dataset['name']}/resource/{resource['id']}/view",
                   query_string={"resource_view": described})
    assert CANARY not in page.body and not _cells(page.body)
    # The Action API.
    for action, data in (("resource_view_show", {"id": table["id"]}),
                         ("resource_view_show", {"id": datatable["id"]}),
                         ("datastore_search", {"resource_id": resource["id"]})):
        body = app.post(f"/api/3/action/{action}", json=data, status=None).json
        assert body["success"] is False and CANARY not in json.dumps(body, ensure_ascii=False)
    body = app.post("/api/3/action/resource_view_list", json={"id": resource["id"]}).json
    assert body["result"] == []
    # The data table's own data route.
    answer = app.post(f"/datatables/ajax/{datatable['id']}", data={
        "draw": "1", "search[value]": "", "start": "0", "length": "10"}, status=None)
    assert answer.status_code >= 400 and CANARY not in answer.get_data(as_text=True)
    # The department sees it all.
    admin = {"Authorization": ckan_factories.APIToken(user=portal["sysadmin"]["name"])["token"]}
    # (the data table comes first on the page, in its frame; the file preview is the next tab)
    page = app.get(f"/dataset/{dataset['name']}/resource/{resource['id']}/view/{table['id']}",
                   headers=admin)
    assert CANARY in _cells(page.body)


def _datatable(portal, open_type: str = "open") -> dict:
    """The data table view of a table of two rows."""
    dataset = _dataset(portal, open_type=open_type)
    resource = _upload(portal, dataset, "站点名称,线路数\n芝罘区政府站,6\n".encode(), "s.csv",
                       "CSV")
    call_action("datastore_create", context={"user": portal["sysadmin"]["name"]},
                resource_id=resource["id"], force=True,
                fields=[{"id": "站点名称", "type": "text"}, {"id": "线路数", "type": "int"}],
                records=[{"站点名称": "芝罘区政府站", "线路数": 6},
                         {"站点名称": "莱山区观海路站", "线路数": 4}])
    return next(v for v in _views(portal, resource) if v["view_type"] == "datatables_view")


TABLE_PAGE = {"draw": "1", "search[value]": "", "start": "0", "length": "10",
              "order[0][column]": "1", "order[0][dir]": "asc"}


def test_the_data_table_pages_rows_as_json(app, portal):
    view = _datatable(portal)
    answer = app.post(f"/datatables/ajax/{view['id']}", data=TABLE_PAGE)
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert [row["站点名称"] for row in answer.json["data"]] == ["芝罘区政府站", "莱山区观海路站"]
    assert answer.json["draw"] == 1 and answer.json["recordsTotal"] == 2


@pytest.mark.parametrize("change", [
    {"draw": "abc"}, {"draw": "1.5"}, {"start": "-1"}, {"start": "１０"}, {"length": "十"},
    {"length": ""}, {"order[0][column]": "x"}, {"order[0][column]": "-1"},
    {"order[0][column]": "99"}, {"draw": None}, {"order[0][dir]": None},
])
def test_a_data_table_page_it_cannot_read_is_a_400_in_chinese(app, portal, change):
    view = _datatable(portal)
    form = {**TABLE_PAGE, **change}
    form = {key: value for key, value in form.items() if value is not None}
    answer = app.post(f"/datatables/ajax/{view['id']}", data=form, status=None)
    assert answer.status_code == 400 and answer.mimetype == "application/json"
    error = answer.json["error"]
    assert re.search("[\u4e00-\u9fff]", error), error
    key, value = next(iter(change.items()))
    if value is not None and key != "order[0][column]" or value in ("x", "-1"):
        assert key in error  # the parameter that is not a number, by name


@pytest.mark.parametrize("params", [
    "{not json", json.dumps({"search": {"value": ""}}), json.dumps([1, 2]),
    json.dumps({"search": {"value": ""}, "order": [{"column": "x", "dir": "asc"}],
                "visible": [True, True, True], "columns": []}),
    json.dumps({"search": {"value": ""}, "order": [{"column": 9, "dir": "asc"}],
                "visible": [True, True, True], "columns": []}),
])
def test_a_filtered_download_it_cannot_read_is_a_400(app, portal, params):
    view = _datatable(portal)
    answer = app.post(f"/datatables/filtered-download/{view['id']}",
                      data={"params": params, "format": "csv"}, status=None)
    assert answer.status_code == 400 and "表格无法识别此次请求" in answer.json["error"]


def test_a_data_table_view_that_is_not_there_or_closed_is_a_404(app, portal):
    closed = _datatable(portal, open_type="conditional")
    for view_id in ("no-such-view", closed["id"]):
        for path, form in ((f"/datatables/ajax/{view_id}", TABLE_PAGE),
                           (f"/datatables/filtered-download/{view_id}",
                            {"params": json.dumps({"search": {"value": ""}, "order": [],
                                                   "visible": [], "columns": []}),
                             "format": "csv"})):
            answer = app.post(path, data=form, status=None)
            assert answer.status_code == 404, (path, answer.get_data(as_text=True))
            assert answer.json["error"] == "该表格视图不存在，或未向您开放"


def test_a_filtered_download_nested_beyond_reading_is_a_400(app, portal):
    view = _datatable(portal)
    for params in ("[" * 1500 + "]" * 1500,
                   '{"search": {"value": ' + "[" * 1500 + "]" * 1500 + "}}"):
        answer = app.post(f"/datatables/filtered-download/{view['id']}",
                          data={"params": params, "format": "csv"}, status=None)
        assert answer.status_code == 400 and "表格无法识别此次请求" in answer.json["error"]


@pytest.mark.parametrize("query", ["filters=nope:1", ""])
def test_the_stock_views_english_errors_are_said_in_chinese(app, portal, query):
    view = _datatable(portal)
    form = dict(TABLE_PAGE)
    if not query:  # a column search on a column the table does not have
        form.update({"columns[0][search][value]": "x", "columns[0][name]": "nope"})
    answer = app.post(f"/datatables/ajax/{view['id']}" + (f"?{query}" if query else ""),
                      data=form, status=None)
    assert answer.status_code == 400
    assert answer.json == {"error": "表格无法识别此次请求，请刷新页面后重试"}


@pytest.mark.parametrize("query", [{"sort": "nope asc"}, {"fields": "nope"}, {"offset": "-1"},
                                   {"q": '{"nope": "x"}'}])
def test_a_dump_it_cannot_make_is_a_400_before_any_byte(app, portal, query):
    view = _datatable(portal)
    answer = app.get(f"/datastore/dump/{view['resource_id']}", query_string=query, status=None)
    assert answer.status_code == 400
    assert "表格无法识别此次请求" in answer.get_data(as_text=True)
    whole = app.get(f"/datastore/dump/{view['resource_id']}")
    assert whole.status_code == 200 and "芝罘区政府站" in whole.get_data(as_text=True)
