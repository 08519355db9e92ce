"""信用报告: a market entity's credit profile (``disclosure.lookup.profile``) as an XLSX workbook
or a PDF, stamped with the moment of the query and where each record is published.

The PDF embeds a Chinese TrueType font (``ckanext.yantai.credit.report_font``, Debian's
fonts-wqy-microhei) so that it reads the same on every reader; text is wrapped character by
character as Chinese is.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ckanext.yantai.disclosure import standard
from ckanext.yantai.disclosure.report import safe_cell

TITLE = "市场主体公共信用信息报告"
SOURCE = "烟台市公共数据开放网"
NOTICE = ("本报告依据查询时点在烟台市公共数据开放网公开的行政许可、行政处罚（双公示）信息"
          "及其他信用数据生成，个人信息已按规定遮蔽；已撤销、已过公示期的信息不在其中。"
          "信息以各部门发布的数据为准。")
# (column title, the record's field) of each record type's table
COLUMNS: Mapping[str, Sequence[tuple[str, str]]] = {
    "license": (("决定文书号", standard.LICENSE_DOC_NO), ("许可证书名称", "许可证书名称"),
                ("许可内容", "许可内容"), ("许可类别", standard.LICENSE_CATEGORY),
                ("许可决定日期", standard.LICENSE_DATE), ("有效期至", standard.VALID_TO),
                ("许可机关", standard.LICENSE_AUTHORITY)),
    "penalty": (("决定书文号", standard.PENALTY_DOC_NO), ("违法行为类型", "违法行为类型"),
                ("处罚类别", standard.PENALTY_CATEGORY), ("处罚内容", "处罚内容"),
                ("罚款金额(万元)", standard.FINE), ("处罚决定日期", standard.PENALTY_DATE),
                ("公示截止期", standard.PUBLICITY_END), ("处罚机关", standard.PENALTY_AUTHORITY)),
}
SECTION = {"license": "行政许可信息", "penalty": "行政处罚信息"}
# the share of a PDF table's width a column takes, by its title (default 1.3)
WIDTHS = {"处罚内容": 2.2, "许可内容": 2.0, "违法行为类型": 1.6, "数据集": 1.8, "决定书文号": 1.6,
          "决定文书号": 1.6, "许可类别": 0.7, "处罚类别": 0.8, "罚款金额(万元)": 0.8,
          "许可决定日期": 1.0, "处罚决定日期": 1.0, "有效期至": 1.0, "公示截止期": 1.0}
PUBLISHED = (("发布部门", "organization"), ("数据集", "dataset"))


def file_name(profile: Mapping[str, Any], ext: str) -> str:
    return f"信用报告-{profile['name']}-{profile['code']}.{ext}"


def queried_at(profile: Mapping[str, Any]) -> str:
    """The moment of the query as people read it: 2026年12月5日 15:20:07 (北京时间)."""
    moment = dt.datetime.fromisoformat(profile["queried_at"])
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M:%S}（北京时间）"


def summary_rows(profile: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [("主体名称", profile["name"]), ("统一社会信用代码", profile["code"]),
            ("查询时间", queried_at(profile)), ("出具平台", SOURCE),
            ("行政许可", f"{profile['license_count']} 条"),
            ("行政处罚", f"{profile['penalty_count']} 条"),
            ("其他信用信息", f"{len(profile['tables'])} 个数据集")]


def record_table(profile: Mapping[str, Any], record_type: str) -> list[list[str]]:
    """A record type's rows (header first), with where each is published."""
    columns = COLUMNS[record_type]
    rows = [[title for title, _ in columns] + [title for title, _ in PUBLISHED]]
    for record in profile["records"]:
        if record["record_type"] != record_type:
            continue
        fields = record["fields"]
        rows.append([str(fields.get(name) or "") for _, name in columns]
                    + [str((record.get(key) or {}).get("title") or "") for _, key in PUBLISHED])
    return rows


def other_table(table: Mapping[str, Any]) -> list[list[str]]:
    return [list(table["fields"])] + [
        ["" if record.get(name) is None else str(record.get(name)) for name in table["fields"]]
        for record in table["records"]]


def _table_title(table: Mapping[str, Any]) -> str:
    organization = (table.get("organization") or {}).get("title") or ""
    return f"{table['dataset']['title']}（{organization}）" if organization \
        else table["dataset"]["title"]


# -- XLSX -----------------------------------------------------------------------------------------

def _cell(value: Any) -> Any:
    return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value)) if isinstance(value, str) else value


def to_xlsx(profile: Mapping[str, Any]) -> bytes:
    """A sheet of the entity and the query, one per record type, one per other credit table."""
    book = Workbook(write_only=True)
    summary = book.create_sheet("信用报告")
    summary.append([TITLE])
    for label, value in summary_rows(profile):
        summary.append([label, _cell(value)])
    summary.append([])
    summary.append(["说明", NOTICE])
    for record_type in ("license", "penalty"):
        sheet = book.create_sheet(SECTION[record_type])
        for row in record_table(profile, record_type):
            sheet.append([_cell(v) for v in row])
    for index, table in enumerate(profile["tables"], start=1):
        sheet = book.create_sheet(f"其他信用信息{index}")
        sheet.append([_cell(_table_title(table))])
        for row in other_table(table):
            sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- PDF ------------------------------------------------------------------------------------------

FONT = "YantaiCJK"


@functools.lru_cache(maxsize=4)
def _register_font(path: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
    return FONT


def to_pdf(profile: Mapping[str, Any], font_path: str) -> bytes:
    """The report on A4 pages: the entity and the query, the records by type, the other credit
    tables, the notice; page numbers at the foot."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _register_font(font_path)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=10)
    heading = ParagraphStyle("heading", parent=body, fontSize=12, leading=18, spaceBefore=8,
                             spaceAfter=4)
    title = ParagraphStyle("title", parent=body, fontSize=17, leading=24, alignment=1,
                           spaceAfter=8)

    def text(value: Any, style: ParagraphStyle = small) -> Paragraph:
        return Paragraph(escape("" if value is None else str(value)), style)

    def grid(rows: list[list[str]]) -> Table:
        weights = [WIDTHS.get(title, 1.3) for title in rows[0]]
        widths = [usable * weight / sum(weights) for weight in weights]
        table = Table([[text(v) for v in row] for row in rows], colWidths=widths,
                      repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
            ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return table

    page = landscape(A4)
    usable = page[0] - 30 * mm
    story: list[Any] = [text(TITLE, title)]
    summary = Table([[text(label, body), text(value, body)]
                     for label, value in summary_rows(profile)],
                    colWidths=[40 * mm, usable - 40 * mm])
    summary.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
                                 ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#e8eef5"))]))
    story += [summary, Spacer(1, 4 * mm)]
    for record_type in ("license", "penalty"):
        rows = record_table(profile, record_type)
        story.append(text(f"{SECTION[record_type]}（{len(rows) - 1} 条）", heading))
        story.append(grid(rows) if len(rows) > 1 else text("无", body))
    for table in profile["tables"]:
        story.append(text(f"其他信用信息：{_table_title(table)}", heading))
        story.append(grid(other_table(table)))
    story += [Spacer(1, 4 * mm), text(NOTICE, small)]

    def foot(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.drawString(15 * mm, 8 * mm, f"{profile['name']} {profile['code']} · "
                                           f"查询时间 {queried_at(profile)} · {SOURCE}")
        canvas.drawRightString(page[0] - 15 * mm, 8 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=page, leftMargin=15 * mm, rightMargin=15 * mm,
                                 topMargin=15 * mm, bottomMargin=15 * mm, title=TITLE,
                                 author=SOURCE, subject=f"{profile['name']} {profile['code']}")
    document.build(story, onFirstPage=foot, onLaterPages=foot)
    return out.getvalue()
