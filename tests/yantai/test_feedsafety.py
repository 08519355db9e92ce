"""What a harvested feed may contain: archives, XML, drop folders."""
from __future__ import annotations

import io
import json
import os
import tracemalloc
import zipfile

import pytest

from ckanext.yantai import feedsafety

pytestmark = pytest.mark.pure
MB = 1024 * 1024


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_ordinary_archive_passes():
    feedsafety.check_archive(_zip({"a.csv": "名称,代码\n".encode() * 1000}), 10 * MB)


def test_a_decompression_bomb_is_refused_by_ratio_and_by_size():
    bomb = _zip({"zeros.csv": b"\0" * (50 * MB)})
    assert len(bomb) < MB
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(bomb, 100 * MB)
    assert unsafe.value.code == "archive_ratio"
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(bomb, 10 * MB, max_ratio=10_000)
    assert unsafe.value.code == "archive_too_large"


def test_sizes_that_lie_are_caught_while_reading():
    """An archive whose directory declares small members but which expands to more."""
    data = bytearray(_zip({"zeros.csv": b"\0" * (8 * MB)}))
    # Rewrite the declared uncompressed size (local header offset 22, central directory
    # offset 24 from its signature) to 1 KB: the real size is found only by reading.
    local = data.index(b"PK\x03\x04")
    data[local + 22:local + 26] = (1024).to_bytes(4, "little")
    central = data.index(b"PK\x01\x02")
    data[central + 24:central + 28] = (1024).to_bytes(4, "little")
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(bytes(data), 4 * MB, max_ratio=10_000)
    assert unsafe.value.code in ("archive_too_large", "archive_bad")


def test_too_many_members_and_garbage():
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(_zip({f"{i}.txt": b"x" for i in range(30)}), MB, max_members=20)
    assert unsafe.value.code == "archive_members"
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(b"PK\x03\x04 not really", MB)
    assert unsafe.value.code == "archive_bad"


def _sheet_bomb(cells: int, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """An XLSX-shaped archive with one row of ``cells`` cells, written in a loop (item 8 of
    issue 13: 52 KB that openpyxl took 826 MB and 13 s to read)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<worksheet xmlns="x"><sheetData><row r="1">')
            for start in range(0, cells, 10_000):  # in runs of 10,000 cells
                sheet.write(b"".join(b"<c><v>%d</v></c>" % i
                                     for i in range(start, start + 10_000)))
            sheet.write(b"</row></sheetData></worksheet>")
    return buffer.getvalue()


def test_the_cell_bomb_is_refused_by_its_sheet_limits_while_streaming():
    bomb = _sheet_bomb(1_000_000)
    assert len(bomb) < 4 * MB
    tracemalloc.start()
    try:
        with pytest.raises(feedsafety.Unsafe) as unsafe:
            feedsafety.check_archive(bomb, 100 * MB, max_ratio=10**6)  # no ratio stops it
        assert unsafe.value.code == "sheet_columns"
        tracemalloc.reset_peak()
        with pytest.raises(feedsafety.Unsafe) as unsafe:
            feedsafety.check_archive(bomb, 100 * MB, max_ratio=10**6,
                                     sheets=feedsafety.SheetLimits(max_columns=10**7,
                                                                   max_cells=50_000))
        assert unsafe.value.code == "sheet_cells"
        assert unsafe.value.params == {"limit": "50000"}
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * MB


def test_declared_dimensions_and_shared_strings_count():
    def xlsx(part: str, xml: str) -> bytes:
        return _zip({part: xml.encode()})
    for part, xml, code in (
            ("xl/worksheets/sheet1.xml",
             '<worksheet><dimension ref="A1:XFD1048576"/><sheetData/></worksheet>', "sheet_cells"),
            ("xl/worksheets/other.xml",  # found by content, whatever the workbook calls it
             '<x:worksheet xmlns:x="x"><x:sheetData><x:row r="9999999"/></x:sheetData>'
             "</x:worksheet>", "sheet_rows"),
            ("xl/sharedStrings.xml", "<sst>" + "<si><t>a</t></si>" * 30 + "</sst>",
             "sheet_cells")):
        with pytest.raises(feedsafety.Unsafe) as unsafe:
            feedsafety.check_archive(xlsx(part, xml), MB,
                                     sheets=feedsafety.SheetLimits(max_cells=20))
        assert unsafe.value.code == code, part


def test_an_ordinary_workbook_passes_its_limits():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for i in range(2000):
        sheet.append(["线路", "站点", i])
    buffer = io.BytesIO()
    book.save(buffer)
    feedsafety.check_archive(buffer.getvalue(), 10 * MB)


def test_encrypted_members_and_entities_inside_archives():
    data = bytearray(_zip({"a.csv": b"x"}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + offset] |= 0x1
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(bytes(data), MB)
    assert unsafe.value.code == "archive_encrypted"
    laughs = b'<!DOCTYPE a [<!ENTITY l "lol">]><worksheet>&l;</worksheet>'
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(_zip({"xl/worksheets/sheet1.xml": laughs}), MB)
    assert unsafe.value.code == "xml_entities"


def test_nested_archives_share_one_budget():
    expansion = feedsafety.Expansion(feedsafety.ArchiveLimits(max_bytes=MB, max_depth=2))
    outer = feedsafety.Archive(io.BytesIO(_zip({"in.zip": _zip({"a": b"x"})})), expansion)
    with outer.open(outer.members[0]) as member:
        inner = io.BytesIO(member.read(MB))
    feedsafety.Archive(inner, expansion, depth=2)
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.Archive(io.BytesIO(_zip({"a": b"x"})), expansion, depth=3)
    assert unsafe.value.code == "archive_depth"
    assert expansion.members == 2
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.Archive(io.BytesIO(_zip({"big": b"y" * (2 * MB)})), expansion)
    assert unsafe.value.code == "archive_too_large"


@pytest.mark.parametrize("xml", [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
    b"<r>&lol2;</r>",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>',
    b'<!doctype r SYSTEM "http://169.254.169.254/x.dtd"><r/>',
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'
    .encode("utf-16"),
])
def test_xml_declaring_entities_is_refused(xml):
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_xml(xml)
    assert unsafe.value.code == "xml_entities"


def test_plain_xml_passes():
    feedsafety.check_xml('<?xml version="1.0"?><rdf:RDF xmlns:rdf="x"><a>烟台</a></rdf:RDF>'
                         .encode())


@pytest.mark.parametrize("document", [
    {"@context": "http://10.0.0.8/context.jsonld", "@id": "x"},
    {"@context": ["https://example.org/c.jsonld", {"t": "http://purl.org/dc/terms/title"}]},
    {"@context": {"@import": "http://169.254.169.254/latest"}},
    {"@graph": [{"@id": "x", "p": {"@context": "http://10.0.0.8/nested.jsonld"}}]},
])
def test_jsonld_naming_a_remote_context_is_refused(document):
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_jsonld(json.dumps(document).encode())
    assert unsafe.value.code == "jsonld_remote_context"


def test_jsonld_with_inline_contexts_passes_and_broken_json_is_named():
    feedsafety.check_jsonld(json.dumps({"@context": {"t": "http://purl.org/dc/terms/title",
                                                     "@vocab": "http://www.w3.org/ns/dcat#"},
                                        "@id": "x", "t": "烟台"}, ensure_ascii=False).encode())
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_jsonld(b"{not json")
    assert unsafe.value.code == "jsonld_bad"


def test_drop_folders_stay_under_their_root(tmp_path):
    root = tmp_path / "drop"
    (root / "jtj").mkdir(parents=True)
    (root / "jtj" / "manifest.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path, root / "escape")

    assert feedsafety.drop_folder(str(root), "jtj") == (root / "jtj").resolve()
    for path, code in (("../", "drop_outside"), ("jtj/../../", "drop_outside"),
                       ("escape", "drop_outside"), ("nowhere", "drop_missing")):
        with pytest.raises(feedsafety.Unsafe) as unsafe:
            feedsafety.drop_folder(str(root), path)
        assert unsafe.value.code == code, path
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.drop_folder(None, "jtj")
    assert unsafe.value.code == "drop_disabled"

    folder = feedsafety.drop_folder(str(root), "jtj")
    assert feedsafety.read_dropped(folder, "manifest.json", 100) == b"{}"
    for name, code in (("../../secret.txt", "drop_outside"), ("/etc/passwd", "drop_outside"),
                       ("absent.csv", "drop_missing")):
        with pytest.raises(feedsafety.Unsafe) as unsafe:
            feedsafety.read_dropped(folder, name, 100)
        assert unsafe.value.code == code, name
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.read_dropped(folder, "manifest.json", 1)
    assert unsafe.value.code == "too_large"


def test_a_drop_folder_fifo_or_device_is_not_read(tmp_path):
    folder = tmp_path / "jtj"
    folder.mkdir()
    os.mkfifo(folder / "manifest.json")  # would block a plain read for ever
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.read_dropped(folder.resolve(), "manifest.json", 1024)
    assert unsafe.value.code == "drop_missing"
    (folder / "big.csv").write_bytes(b"x" * 2048)
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.read_dropped(folder.resolve(), "big.csv", 1024)
    assert unsafe.value.code == "too_large"
    assert feedsafety.read_dropped(folder.resolve(), "big.csv", 4096) == b"x" * 2048
