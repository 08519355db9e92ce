"""The classified firewall: find classification markings (密级标志) in what is about to be stored.

The portal is a 非涉密 system. A marking is a classification level followed by ★ or 级
(``秘密★10年``, ``机密级``), a 密级 label with a level (``密级：绝密``), or the levels 绝密 and 机密
on their own. Plain 秘密 is everyday language in open data (商业秘密, 不涉及国家秘密) and so is
商业机密; those are not markings.
Pure functions: text in, rule out; the caller refuses and audits.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Any, BinaryIO, Iterable

MARKINGS = (
    ("level_star", re.compile(r"(绝密|机密|秘密)\s*[★☆*＊]")),
    ("level_grade", re.compile(r"(绝密|机密|秘密)\s*级")),
    ("level_label", re.compile(r"密\s*级\s*[:：]?\s*(绝密|机密|秘密)")),
    ("top_secret", re.compile(r"绝密")),
    ("confidential", re.compile(r"(?<!商业)(?<!技术)(?<!经营)机密")),
)
# Dataset fields checked, and resource fields.
DATASET_FIELDS = ("title", "notes")
RESOURCE_FIELDS = ("name", "description")
SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 20


def rule(text: Any) -> str | None:
    """The first marking rule the text breaks, or None."""
    if not isinstance(text, str) or not text:
        return None
    compact = text.replace("\u3000", " ")
    for name, pattern in MARKINGS:
        if pattern.search(compact):
            return name
    return None


def dataset_findings(data: dict[str, Any]) -> dict[str, str]:
    """Marking rules broken by a dataset dict: ``{error key: rule}``. The security_class field
    itself is checked by its validator."""
    found: dict[str, str] = {}
    if data.get("security_class") not in (None, "", "non_classified"):
        found["security_class"] = "security_class"
    for key in DATASET_FIELDS:
        hit = rule(data.get(key))
        if hit:
            found[key] = hit
    for index, resource in enumerate(data.get("resources") or []):
        if not isinstance(resource, dict):
            continue
        for key in RESOURCE_FIELDS:
            hit = rule(resource.get(key))
            if hit:
                found[f"resources.{index}.{key}"] = hit
    return found


def decode_text(head: bytes) -> str:
    """Text of an uploaded file: UTF-8 (with or without BOM), GB18030, else what
    charset-normalizer finds."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return head.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    return str(best) if best is not None else head.decode("latin-1")


def _xlsx_lines(stream: BinaryIO) -> Iterable[str]:
    from openpyxl import load_workbook

    book = load_workbook(stream, read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows(max_row=SNIFF_LINES, values_only=True):
                yield " ".join(str(cell) for cell in row if cell is not None)
    finally:
        book.close()


def upload_rule(stream: BinaryIO, filename: str = "") -> str | None:
    """The marking rule broken by the first lines of an uploaded file, or None. The stream is
    left at its start."""
    start = stream.tell()
    try:
        head = stream.read(SNIFF_BYTES)
        if head[:4] == b"PK\x03\x04" and filename.lower().endswith((".xlsx", ".xlsm")):
            stream.seek(start)
            try:
                lines: Iterable[str] = list(_xlsx_lines(stream))
            except Exception:  # not a workbook after all: read it as bytes
                lines = decode_text(head).splitlines()
        else:
            text = decode_text(head)
            lines = text.splitlines()[:SNIFF_LINES]
            if filename.lower().endswith(".csv"):
                lines = [" ".join(row) for row in csv.reader(io.StringIO("\n".join(lines)))]
        for line in lines:
            hit = rule(line)
            if hit:
                return hit
        return None
    finally:
        stream.seek(start)
