"""Classification markings: found where they are, not in everyday words."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from ckanext.yantai import classified

pytestmark = pytest.mark.pure


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


@pytest.mark.parametrize("text", [
    "涉及商业秘密、个人隐私的字段已脱敏", "本数据不涉及国家秘密", "商业机密除外", "技术机密",
    "烟台市公交线路站点信息", "", None, 12,
])
def test_everyday_words_are_not_markings(text):
    assert classified.rule(text) is None


def test_dataset_findings_name_the_fields():
    found = classified.dataset_findings({
        "title": "机密★ 数据", "notes": "正常描述", "security_class": "secret",
        "resources": [{"name": "正常"}, {"name": "x", "description": "密级：绝密"}]})
    assert found == {"title": "level_star", "security_class": "security_class",
                     "resources.1.description": "level_label"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_first_lines_of_text_uploads(encoding):
    data = "标题,数值\n秘密★5年,1\n".encode(encoding)
    stream = io.BytesIO(data)
    assert classified.upload_rule(stream, "data.csv") == "level_star"
    assert stream.tell() == 0
    clean = io.BytesIO("标题,数值\n公交,1\n".encode(encoding))
    assert classified.upload_rule(clean, "data.csv") is None


def test_a_marking_below_the_first_lines_is_not_read():
    lines = ["a,b"] * 100 + ["绝密,1"]
    assert classified.upload_rule(io.BytesIO("\n".join(lines).encode()), "x.csv") is None


def test_first_rows_of_a_workbook():
    book = Workbook()
    book.active.append(["名称", "说明"])
    book.active.append(["项目", "机密级"])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    assert classified.upload_rule(buffer, "data.xlsx") == "level_grade"
    assert buffer.tell() == 0
