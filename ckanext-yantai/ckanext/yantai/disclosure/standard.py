"""双公示 records: the record types and the fields of the national data standard (pure).

A department publishes its administrative licensing (行政许可, ``license``) and penalty (行政处罚,
``penalty``) decisions as records of the national 双公示 data standard. This module names them:
the record types and their labels, each type's fields (required ones, dates, codes, document
numbers), the standard's vocabularies, and the headers older (2016-era) feeds and the templates
use for the same fields. It is the first stage of the 双公示 pipeline: every other module of
``ckanext.yantai.disclosure`` may import it, it imports none of them.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping

from ckanext.yantai import codes

# The record types, the one list of them (the catalogue's vocabulary takes it from here).
RECORD_TYPES = ("license", "penalty")
# Their labels: Chinese and English.
RECORD_TYPE_LABELS: Mapping[str, tuple[str, str]] = {
    "license": ("行政许可", "Administrative licensing"),
    "penalty": ("行政处罚", "Administrative penalty"),
}

# -- the standard's fields ------------------------------------------------------------------------

NAME = "行政相对人名称"
CATEGORY = "行政相对人类别"
USCC = "行政相对人代码_1"
PARTY_CODES = (USCC, "行政相对人代码_2", "行政相对人代码_3", "行政相对人代码_4",
               "行政相对人代码_5", "行政相对人代码_6")
LEGAL_REP = "法定代表人"
REP_ID_TYPE = "法定代表人证件类型"
REP_ID = "法定代表人证件号码"
ID_TYPE = "证件类型"
ID_NUMBER = "证件号码"
STATUS = "当前状态"
SOURCE = "数据来源单位"
SOURCE_CODE = "数据来源单位统一社会信用代码"
REMARK = "备注"

LICENSE_DOC_NAME = "行政许可决定文书名称"
LICENSE_DOC_NO = "行政许可决定文书号"
LICENSE_CATEGORY = "许可类别"
LICENSE_NO = "许可编号"
LICENSE_DATE = "许可决定日期"
VALID_FROM = "有效期自"
VALID_TO = "有效期至"
LICENSE_AUTHORITY = "许可机关"
LICENSE_AUTHORITY_CODE = "许可机关统一社会信用代码"

PENALTY_DOC_NO = "行政处罚决定书文号"
PENALTY_CATEGORY = "处罚类别"
FINE = "罚款金额(万元)"
CONFISCATED = "没收违法所得、没收非法财物的金额(万元)"
LICENCE_REVOKED = "暂扣或吊销证照名称及编号"
PENALTY_DATE = "处罚决定日期"
PENALTY_VALID_TO = "处罚有效期"
PUBLICITY_END = "公示截止期"
PENALTY_AUTHORITY = "处罚机关"
PENALTY_AUTHORITY_CODE = "处罚机关统一社会信用代码"

PARTY_FIELDS = (NAME, CATEGORY, *PARTY_CODES, LEGAL_REP, REP_ID_TYPE, REP_ID, ID_TYPE, ID_NUMBER)

FIELDS: Mapping[str, tuple[str, ...]] = {
    "license": (*PARTY_FIELDS, LICENSE_DOC_NAME, LICENSE_DOC_NO, LICENSE_CATEGORY, "许可证书名称",
                LICENSE_NO, "许可内容", LICENSE_DATE, VALID_FROM, VALID_TO, LICENSE_AUTHORITY,
                LICENSE_AUTHORITY_CODE, STATUS, SOURCE, SOURCE_CODE, REMARK),
    "penalty": (*PARTY_FIELDS, PENALTY_DOC_NO, "违法行为类型", "违法事实", "处罚依据",
                PENALTY_CATEGORY, "处罚内容", FINE, CONFISCATED, LICENCE_REVOKED, PENALTY_DATE,
                PENALTY_VALID_TO, PUBLICITY_END, PENALTY_AUTHORITY, PENALTY_AUTHORITY_CODE, STATUS,
                SOURCE, SOURCE_CODE, REMARK),
}

REQUIRED: Mapping[str, tuple[str, ...]] = {
    "license": (NAME, CATEGORY, LICENSE_DOC_NAME, LICENSE_CATEGORY, "许可内容", LICENSE_DATE,
                VALID_FROM, VALID_TO, LICENSE_AUTHORITY, LICENSE_AUTHORITY_CODE, SOURCE,
                SOURCE_CODE),
    "penalty": (NAME, CATEGORY, PENALTY_DOC_NO, "违法行为类型", "违法事实", "处罚依据",
                PENALTY_CATEGORY, "处罚内容", PENALTY_DATE, PENALTY_AUTHORITY,
                PENALTY_AUTHORITY_CODE, SOURCE, SOURCE_CODE),
}

DECISION_DATE = {"license": LICENSE_DATE, "penalty": PENALTY_DATE}
AUTHORITY_CODES = {"license": (LICENSE_AUTHORITY_CODE, SOURCE_CODE),
                   "penalty": (PENALTY_AUTHORITY_CODE, SOURCE_CODE)}
DATE_FIELDS = {"license": (LICENSE_DATE, VALID_FROM, VALID_TO),
               "penalty": (PENALTY_DATE, PENALTY_VALID_TO, PUBLICITY_END)}
DOC_NUMBER = {"license": LICENSE_DOC_NO, "penalty": PENALTY_DOC_NO}

CATEGORY_ORG = "法人及非法人组织"
CATEGORY_PERSON = "自然人"
CATEGORY_SOLE = "个体工商户"
PARTY_CATEGORIES = (CATEGORY_ORG, CATEGORY_PERSON, CATEGORY_SOLE)
LICENSE_CATEGORIES = ("普通", "特许", "认可", "核准", "登记", "其他")
# 行政处罚法 (2021) 第九条
PENALTY_CATEGORIES = ("警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件",
                      "降低资质等级", "吊销许可证件", "限制开展生产经营活动", "责令停产停业",
                      "责令关闭", "限制从业", "行政拘留", "其他")
ID_TYPES = ("身份证", "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证",
            "外国人永久居留身份证", "港澳台居民居住证", "其他")
# 当前状态: the standard's codes 0-3 or their names.
STATUSES = {"0": "正常", "1": "撤销", "2": "异议", "3": "其他",
            "正常": "正常", "有效": "正常", "撤销": "撤销", "已撤销": "撤销", "异议": "异议",
            "其他": "其他"}

# Headers that older (2016-era) feeds and the templates use for the standard's fields.
LEGACY_NAMES: Mapping[str, str] = {
    "统一社会信用代码": USCC,
    "工商登记码": "行政相对人代码_2", "工商注册号": "行政相对人代码_2",
    "组织机构代码": "行政相对人代码_3",
    "税务登记号": "行政相对人代码_4",
    "事业单位证书号": "行政相对人代码_5",
    "社会组织登记证号": "行政相对人代码_6",
    "居民身份证号": ID_NUMBER, "身份证号": ID_NUMBER, "身份证号码": ID_NUMBER,
    "法定代表人姓名": LEGAL_REP,
    "行政许可决定书文号": LICENSE_DOC_NO,
    "项目名称": LICENSE_DOC_NAME,
    "审批类别": LICENSE_CATEGORY,
    "许可截止期": VALID_TO,
    "处罚名称": "违法行为类型",
    "处罚事由": "违法事实",
    "处罚结果": "处罚内容",
    "公示期限": PUBLICITY_END,
    "罚款金额": FINE,
    "没收违法所得、没收非法财物的金额": CONFISCATED,
    "没收违法所得金额": CONFISCATED, "没收金额": CONFISCATED,
}
# Older categories in two columns; joined into 处罚类别.
LEGACY_PENALTY_CATEGORIES = ("处罚类别1", "处罚类别2")
# Known older columns that the standard dropped: kept with the record, not published.
LEGACY_DROPPED = frozenset({"地方编码", "数据更新时间戳"})


def header_key(header: str) -> str:
    """A column header as compared: half-width, without spaces."""
    return re.sub(r"\s+", "", codes.fold_width(str(header)))


_ALIASES: dict[str, dict[str, str]] = {}
for _type, _fields in FIELDS.items():
    _table = {header_key(f): f for f in _fields}
    for _old, _new in LEGACY_NAMES.items():
        if _new in _fields:
            _table.setdefault(header_key(_old), _new)
    _ALIASES[_type] = _table
_DESCRIPTION = re.compile(r"^(?P<base>.+?)\((?P<description>[^()]*)\)$")


def canonical_field(record_type: str, header: str) -> str | None:
    """The standard's name of a column header, None for a column the standard does not have.

    Headers come as the standard writes them, with the template's description in half- or
    full-width brackets (行政相对人代码_1（统一社会信用代码）), with stray spaces, or by their
    2016-era names (统一社会信用代码, 处罚事由).
    """
    aliases = _ALIASES[record_type]
    key = header_key(header)
    if key in aliases:
        return aliases[key]
    match = _DESCRIPTION.match(key)
    if match:
        return aliases.get(match["base"])
    return None


@functools.lru_cache(maxsize=4096)
def term(value: str) -> str:
    """A vocabulary value as compared: half-width, without surrounding spaces."""
    return codes.fold_width(value).strip()


def iso(day: dt.date | None) -> str | None:
    """A date or a moment as the API and the exports write it: ISO 8601; None stays None."""
    return day.isoformat() if day is not None else None
