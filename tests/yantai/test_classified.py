"""Classification markings: found where they are, whatever they wear, not in everyday words."""
from __future__ import annotations

import codecs
import io
import sys
import tracemalloc
import unicodedata
import zipfile

import pytest
from openpyxl import Workbook
from openpyxl.comments import Comment

from ckanext.yantai import classified, feedsafety

pytestmark = pytest.mark.pure
MB = 1024 * 1024


@pytest.mark.parametrize("text,rule", [
    ("秘密★10年 烟台市某项目", "level_star"),
    ("机密★", "level_star"),
    ("绝密 ☆ 长期", "level_star"),
    ("本文件为机密级", "level_grade"),
    ("密级：秘密", "level_label"),
    ("密级:绝密", "level_label"),
    ("含有绝密内容", "top_secret"),
    ("内部机密资料", "confidential"),
])
def test_markings(text, rule):
    assert classified.rule(text) == rule


# The disguises of issue 13, item 5, and more of their kind.
HOSTILE = [
    "绝 密★", "机　密★", "绝\t密", "绝\n密", "絕密", "機密", "密級：機密", "祕密★", "㊙密★",
    "绝\u200b密", "绝\u200d密\ufeff", "绝\u00ad密", "秘\u0301密★", "秘密⭐", "秘密✩", "秘密✪",
    "秘密✫", "秘密✬", "秘密✭", "秘密✮", "秘密✯", "秘密✰", "秘密*", "秘密＊", "秘密🌟",
    "秘密☆5年", "密-级：秘密", "密 级:秘密", "密·级 — 秘密", "密级为机密", "ＡＢ绝密",
    "绝**密**", "**绝**密", "绝_密_", "绝~~密~~", "绝&#23494;", "绝&#x5BC6;", "&#32477;&#23494;",
    "绝&amp;#23494;", "绝<!-- -->密", "绝<!-- x -->密", "绝<b>密</b>", "<span>绝</span>密",
    "[绝](http://example.com)密", "绝\\密", "秘**密**★", "秘密 ★", "機 密 級", "宻级：绝宻",
    "ｓ绝密", "秘密★\u2060", "绝＜!-- --＞密", "绝&lt;b&gt;密",
    # what markup hides is stored all the same
    "公交<!-- 机密★ -->", "公交<!-- 绝密", '<span title="绝 密">公交</span>',
    "<a title=機密>x</a>", "[公交](http://example.com/绝密)", "[公交][绝密]",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_disguised_markings_are_found(text):
    assert classified.rule(text) is not None, classified.normalise(text)


EVERYDAY = [
    "涉及商业秘密、个人隐私的字段已脱敏", "本数据不涉及国家秘密", "商业机密除外", "技术机密",
    "技术秘密", "经营机密", "商业 秘密", "商　业　机　密", "**商业秘密**", "*商业机密*",
    "涉及商业秘密，级别为一般", "手机密码", "随机密钥", "数据机密性、完整性", "杜绝密码明文存储",
    "计算机密集型", "有机密封材料", "烟台市公交线路站点信息", "绝对值", "密切联系", "秘书处",
    "绝\n\n密", "绝，密", "", None, 12,
]


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_words_are_not_markings(text):
    assert classified.rule(text) is None


@pytest.mark.parametrize("text,view", [
    ("绝 密★", "绝密★"),
    ("机　密★", "机密★"),
    ("密-级：秘密", "密级秘密"),
    ("密 级:秘密", "密级秘密"),
    ("絕密", "绝密"),
    ("绝\u200b密", "绝密"),
    ("秘密⭐", "秘密★"),
    ("绝**密**", "绝密"),
    ("绝&#23494;", "绝密"),
    ("绝<!-- -->密", "绝密|绝|密"),
    ("<b>公</b>交", "公交|b公b交"),  # as rendered, and with what markup hides
    ("ＧＤＰ 统计", "GDP统计"),
    ("一，二。三", "一|二|三"),
    ("段一\n\n段二", "段一|段二"),
])
def test_the_normalised_view(text, view):
    assert classified.normalise(text) == view


def test_triggers_hold_every_character_that_normalises_into_a_level():
    """Uploads skip normalising windows without any of TRIGGERS: that is only safe if every
    character that folds into one of the level characters is one."""
    levels = set("绝机秘密级")
    missing = []
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char).translate(classified._FOLD)
        if levels & set(folded) and char not in classified.TRIGGERS:
            missing.append(f"U+{code:04X}")
    assert missing == []


# -- objects ---------------------------------------------------------------------------------------

def test_dataset_findings_name_the_fields():
    found = classified.dataset_findings({
        "title": "机密★ 数据", "notes": "正常描述", "security_class": "secret",
        "resources": [{"name": "正常"}, {"name": "x", "description": "密级：绝密"}]})
    assert found == {"title": "level_star", "security_class": "security_class",
                     "resources.1.description": "level_label"}


def test_every_text_of_a_dataset_is_checked():
    found = classified.dataset_findings({
        "title": "公交", "tags": [{"name": "絕密"}], "open_condition": "密 级：秘密",
        "share_condition": "机　密★", "contact_office": "绝\u200b密办",
        "extras": [{"key": "备注", "value": "秘密⭐"}],
        "info_items": [{"name": "线路", "data_type": "string", "note": "绝**密**"}],
        "custom": {"deep": [{"deeper": "绝&#23494;"}]},
        "resources": [{"name": "a", "format": "绝密", "url": "http://x/机密★.csv"}]})
    assert set(found) == {"tags.0.name", "open_condition", "share_condition", "contact_office",
                          "extras.0.value", "info_items.0.note", "custom.deep.0.deeper",
                          "resources.0.format", "resources.0.url"}


def test_a_marked_key_is_found_and_not_quoted():
    found = classified.findings({"秘密★项目": "x", "name": "ok"})
    assert found == {"extras": "level_star"}


@pytest.mark.parametrize("records,rule", [
    ([{"名称": "公交", "说明": "正常"}, {"名称": "项目", "说明": "機 密★"}], "level_star"),
    ([{"名称": "公交", "密级：秘密": "x"}], "level_label"),
    ([{"名称": {"nested": ["绝\u200b密"]}}], "top_secret"),
    ([{"名称": "商业秘密", "说明": "技术机密"}], None),
    ([{"名称": "秘"}, {"名称": "密★"}], None),  # two cells are not one word
    ("not rows", None),
])
def test_records_rule(records, rule):
    assert classified.records_rule(records) == rule


# -- uploads ---------------------------------------------------------------------------------------

def scan(data: bytes, filename: str = "data.csv", **limits) -> str | None:
    stream = io.BytesIO(data)
    rule = classified.upload_rule(stream, filename,
                                  classified.UploadLimits(**limits) if limits else None)
    assert stream.tell() == 0
    return rule


def refusal(data: bytes, filename: str = "data.bin", **limits) -> str:
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        scan(data, filename, **limits)
    return unsafe.value.code


def workbook(fill) -> bytes:
    book = Workbook()
    fill(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zip_of(members: dict[str, bytes | str], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "big5", "utf-16", "hz"])
def test_text_uploads_in_any_chinese_encoding(encoding):
    big5 = encoding == "big5"
    marked = "標題,數值\n密級：機密,1\n" if big5 else "标题,数值\n秘密★5年,1\n"
    assert scan(marked.encode(encoding)) is not None
    clean = "標題,數值\n公車,1\n" if big5 else "标题,数值\n公交,1\n"
    assert scan(clean.encode(encoding)) is None


def test_big5_text_read_as_gb18030_would_hide_its_marking():
    data = ("項目名稱,說明\n" * 2000 + "某項目,本件為絕密\n").encode("big5")
    data.decode("gb18030")  # reads without an error, as nonsense
    assert scan(data) == "top_secret"


@pytest.mark.parametrize("where", [21, 5000, 100_000])
def test_a_marking_anywhere_in_a_text_upload_is_found(where):
    lines = ["线路,站点"] * where + ["项目,绝 密"] + ["线路,站点"] * 10
    data = "\n".join(lines).encode()
    assert scan(data) == "top_secret"


def test_a_marking_split_across_reading_windows_is_found():
    filler = "公交线路站点" * 11_000  # past one window of the scanner
    for cut in range(0, 8):
        data = (filler[:len(filler) - cut] + "绝" + "\u200b" * 3000 + "密").encode()
        assert scan(data) == "top_secret"


def test_workbook_cells_anywhere():
    def fill(book):
        for i in range(3000):
            book.active.append(["线路", i])
        book.active.append(["项目", "机密级"])
    assert scan(workbook(fill), "data.xlsx") == "level_grade"


@pytest.mark.parametrize("where", ["title", "header", "comment", "second sheet", "footer",
                                   "property"])
def test_workbook_titles_headers_comments(where):
    def fill(book):
        sheet = book.active
        sheet.append(["名称", "说明"])
        sheet.append(["公交", "正常"])
        if where == "title":
            sheet.title = "絕密"
        elif where == "header":
            sheet["A1"] = "密级：秘密"
        elif where == "comment":
            sheet["B2"].comment = Comment("机密★", "作者")
        elif where == "second sheet":
            book.create_sheet("附表")["C3"] = "绝\u200b密"
        elif where == "footer":
            sheet.oddFooter.center.text = "秘密⭐"
        else:
            book.properties.title = "绝密文件"
    assert scan(workbook(fill), "data.xlsx") is not None


def test_an_everyday_workbook_passes():
    def fill(book):
        book.active.title = "商业秘密说明"
        for i in range(500):
            book.active.append(["涉及商业秘密的字段已脱敏", "技术机密", i])
    assert scan(workbook(fill), "data.xlsx") is None


def test_content_not_name_decides():
    def fill(book):
        book.active.append(["项目", "绝密"])
    data = workbook(fill)
    assert scan(data, "data.csv") == "top_secret"
    assert scan(data, "") == "top_secret"
    assert scan("项目,绝密\n".encode(), "data.xlsx") == "top_secret"


def test_rich_text_runs_join():
    shared = ('<sst xmlns="x"><si><r><t>绝</t></r><r><rPr><b/></rPr><t>密</t></r></si>'
              '<si><t>公交</t></si></sst>')
    data = zip_of({"[Content_Types].xml": "<Types/>", "xl/sharedStrings.xml": shared})
    assert scan(data, "x.xlsx") == "top_secret"


@pytest.mark.parametrize("part,xml", [
    ("word/document.xml", '<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>绝</w:t></w:r>'
                          '<w:r><w:rPr><w:lang w:eastAsia="zh-CN"/></w:rPr><w:t>密</w:t>'
                          '</w:r></w:p></w:body></w:document>'),
    ("word/header1.xml", '<w:hdr xmlns:w="w"><w:p><w:r><w:t>秘密★</w:t></w:r></w:p></w:hdr>'),
    ("word/comments.xml", '<w:comments xmlns:w="w"><w:comment><w:p><w:r><w:t>機密</w:t>'
                          '</w:r></w:p></w:comment></w:comments>'),
    ("ppt/slides/slide1.xml", '<p:sld xmlns:p="p" xmlns:a="a"><a:p><a:r><a:t>密级：</a:t>'
                              '</a:r><a:r><a:t>秘密</a:t></a:r></a:p></p:sld>'),
    ("content.xml", '<office:document-content xmlns:office="o" xmlns:text="t"><text:p>绝'
                    '<text:span>密</text:span></text:p></office:document-content>'),
    ("docProps/core.xml", '<cp:coreProperties xmlns:cp="c" xmlns:dc="d"><dc:title>绝密'
                          '</dc:title></cp:coreProperties>'),
])
def test_office_documents(part, xml):
    data = zip_of({"[Content_Types].xml": "<Types/>", part: xml})
    assert scan(data, "document.docx") is not None


def test_office_paragraphs_do_not_join():
    xml = ('<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>杜绝</w:t></w:r></w:p>'
           '<w:p><w:r><w:t>密封</w:t></w:r></w:p><w:p><w:r><w:t>技术</w:t></w:r></w:p>'
           '<w:p><w:r><w:t>机密★</w:t></w:r></w:p></w:body></w:document>')
    assert scan(zip_of({"word/document.xml": xml}), "x.docx") == "level_star"
    clean = xml.replace("机密★", "说明")
    assert scan(zip_of({"word/document.xml": clean}), "x.docx") is None


def test_archives_their_members_and_names():
    assert scan(zip_of({"a/b.txt": "公交\n" * 100 + "机密★"}), "a.zip") == "level_star"
    assert scan(zip_of({"绝密/a.txt": "公交"}), "a.zip") == "top_secret"
    inner = zip_of({"deep.csv": "名稱\n密級：絕密\n".encode("big5")})
    assert scan(zip_of({"inner.zip": inner, "readme.txt": "说明"}), "a.zip") == "level_label"
    docx = zip_of({"word/document.xml": '<w:document xmlns:w="w"><w:p><w:t>秘密⭐</w:t></w:p>'
                                        '</w:document>'})
    assert scan(zip_of({"files/report.docx": docx}), "a.zip") == "level_star"
    assert scan(zip_of({"a.txt": "公交", "b.xml": "<a>正常</a>"}), "a.zip") is None


def test_malformed_xml_and_html_are_read_as_text():
    assert scan(b"<html><body><p>\xe7\xbb\x9d<b>\xe5\xaf\x86</b>&nbsp;</p>", "a.html") \
        == "top_secret"
    vml = '<xml><v:shape><x:ClientData>秘密★</x:ClientData></xml>'  # not well-formed
    assert scan(zip_of({"xl/drawings/vmlDrawing1.vml": vml}), "a.xlsx") == "level_star"
    entity = '<!DOCTYPE a [<!ENTITY x "绝">]><a>&x;密 绝密</a>'
    assert scan(entity.encode(), "a.xml") == "top_secret"


def test_legacy_office_text_as_utf16():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "秘密★".encode("utf-16-le")
    assert scan(data, "a.xls") == "level_star"
    assert scan(data[:8] + b"\x00" + data[8:], "a.xls") == "level_star"  # at an odd offset


def test_what_cannot_be_read_is_refused():
    assert refusal(b"PK\x03\x04 not an archive") == "archive_bad"
    truncated = zip_of({"a.txt": "公交" * 10_000})
    assert refusal(truncated[:len(truncated) // 2]) == "archive_bad"
    encrypted = bytearray(zip_of({"a.txt": "公交"}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = encrypted.index(signature) + offset
        encrypted[at] |= 0x1
    assert refusal(bytes(encrypted)) == "archive_encrypted"
    ole = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
           + "EncryptedPackage".encode("utf-16-le"))
    assert refusal(ole) == "encrypted"
    assert refusal(b"x" * 2048, max_bytes=1024) == "too_large"
    nested = zip_of({"x.txt": "公交"})
    for _ in range(4):
        nested = zip_of({"n.zip": nested})
    assert refusal(nested) == "archive_depth"
    bomb = zip_of({"zeros.txt": b"\0" * (20 * MB)})
    assert refusal(bomb) == "archive_ratio"
    many = zip_of({f"{i}.txt": b"x" for i in range(30)})
    assert refusal(many, archive=feedsafety.ArchiveLimits(max_members=20)) == \
        "archive_members"


def sheet_bomb(cells: int, method: int = zipfile.ZIP_DEFLATED, distinct: bool = False) -> bytes:
    """One row of ``cells`` cells, written in a loop (as the attack of item 8 did)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<worksheet xmlns="x"><sheetData><row r="1">')
            for start in range(0, cells, 10_000):  # in runs of 10,000 cells
                sheet.write(b"".join(b"<c><v>%d</v></c>" % i for i in range(start, start + 10_000))
                            if distinct else b'<c t="n"><v>1</v></c>' * 10_000)
            sheet.write(b"</row></sheetData></worksheet>")
    return buffer.getvalue()


def test_the_cell_bomb_of_item_8_is_refused_within_bounds():
    bomb = sheet_bomb(1_000_000)
    assert len(bomb) < 64 * 1024  # 52 KB in the report
    tracemalloc.start()
    try:
        assert refusal(bomb, "bomb.xlsx") in ("archive_ratio", "sheet_columns", "sheet_cells")
        # A bomb that does not compress well, so that no ratio stops it: the sheet limits do.
        solid = sheet_bomb(200_000, zipfile.ZIP_STORED, distinct=True)
        tracemalloc.reset_peak()
        assert refusal(solid, "bomb.csv") == "sheet_columns"
        assert refusal(solid, "bomb.csv", sheets=feedsafety.SheetLimits(
            max_columns=10**9, max_cells=20_000)) == "sheet_cells"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MB  # the stream is counted, never held (the attack took 826 MB)


def test_dimension_and_row_number_bombs():
    def sheet(xml: str) -> bytes:
        return zip_of({"xl/worksheets/sheet1.xml": f'<worksheet xmlns="x">{xml}</worksheet>'})
    assert refusal(sheet('<dimension ref="A1:XFD1048576"/><sheetData/>')) == "sheet_cells"
    assert refusal(sheet('<sheetData><row r="2000000"><c r="A2000000"/></row></sheetData>')) \
        == "sheet_rows"
    assert refusal(sheet('<sheetData><row r="1"><c r="ZZZZ1"/></row></sheetData>')) \
        == "sheet_columns"
    # Sparse cells far to the right in many rows: a reader pads each row to its last cell.
    rows = "".join(f'<row r="{i}"><c r="XFD{i}"/></row>' for i in range(1, 400))
    assert refusal(sheet(f"<sheetData>{rows}</sheetData>"),
                   sheets=feedsafety.SheetLimits(max_cells=5_000_000)) == "sheet_cells"


def test_decode_text_keeps_its_order():
    assert classified.decode_text("公交".encode("gb18030")) == "公交"
    assert classified.decode_text(codecs.BOM_UTF8 + "公交".encode()) == "公交"
