"""Sample 双公示 records for the tests: valid by default, each test breaking one rule."""
from __future__ import annotations

from typing import Any

from stdnum.cn import ric, uscc

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def make_uscc(prefix: str, org8: str) -> str:
    """A valid credit code: 8-character prefix, organisation code (with its check), check
    character."""
    check = 11 - sum(_VALUES[c] * w for c, w in zip(org8, _ORG_WEIGHTS, strict=True)) % 11
    body = prefix + org8 + ("X" if check == 10 else "0" if check == 11 else str(check))
    return body + uscc.calc_check_digit(body)


def make_ric(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


FIRM = make_uscc("91370602", "MA3C7XLK")  # 91370602MA3C7XLK9X
SOLE = make_uscc("92370602", "L1234567")
AUTHORITY = "11370600004340782H"  # 烟台市市场监督管理局 (demo catalogue)
ADULT_ID = make_ric("37060219850312123")  # born 1985-03-12
MINOR_ID = make_ric("37060220120515002")  # born 2012-05-15


def penalty(**changes: Any) -> dict[str, Any]:
    record = {
        "行政相对人名称": "烟台某某食品有限公司",
        "行政相对人类别": "法人及非法人组织",
        "行政相对人代码_1": FIRM,
        "法定代表人": "王某",
        "法定代表人证件类型": "身份证",
        "法定代表人证件号码": ADULT_ID,
        "行政处罚决定书文号": "烟市监罚〔2026〕101号",
        "违法行为类型": "违反《食品安全法》",
        "违法事实": "经营超过保质期的食品",
        "处罚依据": "《中华人民共和国食品安全法》第一百二十四条",
        "处罚类别": "罚款",
        "处罚内容": "罚款人民币5000元",
        "罚款金额(万元)": "0.5",
        "处罚决定日期": "2026-09-18",
        "处罚机关": "烟台市市场监督管理局",
        "处罚机关统一社会信用代码": AUTHORITY,
        "数据来源单位": "烟台市市场监督管理局",
        "数据来源单位统一社会信用代码": AUTHORITY,
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


def license(**changes: Any) -> dict[str, Any]:  # noqa: A001 - the record type's name
    record = {
        "行政相对人名称": "烟台某某食品有限公司",
        "行政相对人类别": "法人及非法人组织",
        "行政相对人代码_1": FIRM,
        "法定代表人": "王某",
        "行政许可决定文书名称": "食品经营许可决定书",
        "行政许可决定文书号": "烟市监许〔2026〕2001号",
        "许可类别": "普通",
        "许可证书名称": "食品经营许可证",
        "许可编号": "JY13706020012345",
        "许可内容": "预包装食品销售",
        "许可决定日期": "2026-09-18",
        "有效期自": "2026-09-18",
        "有效期至": "2031-09-17",
        "许可机关": "烟台市行政审批服务局",
        "许可机关统一社会信用代码": AUTHORITY,
        "数据来源单位": "烟台市行政审批服务局",
        "数据来源单位统一社会信用代码": AUTHORITY,
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


def person_penalty(**changes: Any) -> dict[str, Any]:
    return penalty(**{"行政相对人名称": "张某某", "行政相对人类别": "自然人",
                      "行政相对人代码_1": None, "法定代表人": None, "法定代表人证件类型": None,
                      "法定代表人证件号码": None, "证件类型": "身份证", "证件号码": ADULT_ID,
                      **changes})
