"""Controlled vocabularies of the 政务信息资源目录 (government information-resource catalogue).

Stored values are stable codes (the public API contract); labels are for people, in zh_Hans_CN and
en. The scheming schemas take their choices from here (helper ``yantai_vocabulary_choices``), and
so do the validators, the facets and the quality rules: one list per vocabulary.
"""
from __future__ import annotations

from typing import NamedTuple

from ckanext.yantai.disclosure import standard


class Term(NamedTuple):
    value: str
    zh: str
    en: str


def _terms(*rows: tuple[str, str, str]) -> tuple[Term, ...]:
    return tuple(Term(*row) for row in rows)


# 更新周期 (quality.OVERDUE_AFTER_DAYS says when a dataset counts as overdue, 更新超期).
UPDATE_CYCLES = _terms(
    ("realtime", "实时", "Real time"),
    ("daily", "每日", "Daily"),
    ("weekly", "每周", "Weekly"),
    ("monthly", "每月", "Monthly"),
    ("quarterly", "每季度", "Quarterly"),
    ("half_yearly", "每半年", "Half-yearly"),
    ("yearly", "每年", "Yearly"),
    ("irregular", "不定期", "Irregular"),
)

OPEN_TYPES = _terms(
    ("open", "无条件开放", "Open"),
    ("conditional", "有条件开放", "Conditionally open"),
    ("closed", "不予开放", "Not open"),
)

# 开放许可协议 (the register: config/licences/licences.json): the licence each open type implies
# when none is chosen. Data open to everyone carry an open licence; data given only on conditions
# carry the agreement an applicant signs; data not open carry the government sharing terms.
OPEN_TYPE_LICENCES = {"open": "cc-by", "conditional": "yantai-conditional-1.0",
                      "closed": "yantai-government-1.0"}
# The licences that are not open belong to one open type each.
LICENCE_OPEN_TYPES = {"yantai-conditional-1.0": "conditional", "yantai-government-1.0": "closed"}
# Left empty, 未指定, or CKAN's generic "not open" (stored by earlier versions): the open type's
# own.
UNSPECIFIED_LICENCES = frozenset({"", "notspecified", "other-closed"})


def default_licence(open_type: str | None) -> str | None:
    """The licence an open type implies (None for no open type, or an unknown one)."""
    return OPEN_TYPE_LICENCES.get(open_type or "")


def licence_fits(open_type: str | None, licence: str | None, open_licences: frozenset[str]) -> bool:
    """Whether a licence agrees with the open type: an open licence for open data; for
    conditional and closed data, a licence that is not open and, if it is one of the portal's
    agreements, the agreement of that open type. Without an open type, an open licence is what
    counts."""
    licence = (licence or "").strip()
    if licence in UNSPECIFIED_LICENCES:
        return False
    is_open = open_type in (None, "", "open")
    if (licence in open_licences) != is_open:
        return False
    return is_open or LICENCE_OPEN_TYPES.get(licence, open_type) == open_type


SHARE_TYPES = _terms(
    ("unconditional", "无条件共享", "Shared unconditionally"),
    ("conditional", "有条件共享", "Shared on conditions"),
    ("none", "不予共享", "Not shared"),
)

SHARE_METHODS = _terms(
    ("file", "文件下载", "File download"),
    ("api", "接口服务", "API service"),
    ("database", "数据库", "Database"),
    ("other", "其他", "Other"),
)

# 涉密属性. Only non_classified may be stored: the others exist so that an attempt is recognised
# and refused (the portal is a 非涉密 system).
SECURITY_CLASSES = _terms(
    ("non_classified", "非涉密", "Non-classified"),
    ("secret", "秘密", "Secret"),
    ("confidential", "机密", "Confidential"),
    ("top_secret", "绝密", "Top secret"),
)

# 信息资源分类, first level (类): the resource's attribute.
CATEGORY_ATTRIBUTES = _terms(
    ("1", "基础信息资源", "Base resource"),
    ("2", "主题信息资源", "Thematic resource"),
    ("3", "部门信息资源", "Departmental resource"),
)

DATA_TYPES = _terms(
    ("string", "字符型", "String"),
    ("number", "数值型", "Number"),
    ("date", "日期型", "Date"),
    ("datetime", "日期时间型", "Date and time"),
    ("boolean", "布尔型", "Boolean"),
    ("binary", "二进制", "Binary"),
)

FORMAT_CLASSES = _terms(
    ("document", "电子文件", "Electronic document"),
    ("spreadsheet", "电子表格", "Spreadsheet"),
    ("database", "数据库", "Database"),
    ("image", "图形图像", "Graphics and images"),
    ("media", "流媒体", "Streaming media"),
    ("self_describing", "自描述格式", "Self-describing format"),
    ("api", "接口", "Service interface"),
    ("other", "其他", "Other"),
)

# 双公示 record types: the disclosure standard's list, with its labels.
RECORD_TYPES = _terms(*((value, *standard.RECORD_TYPE_LABELS[value])
                        for value in standard.RECORD_TYPES))

DEPT_TYPES = _terms(
    ("city_department", "市直部门", "City department"),
    ("district", "县市区", "County, city or district"),
    ("zone", "功能区", "Functional zone"),
    ("central_unit", "中央驻烟单位", "Central government unit in Yantai"),
)

# GB/T 2260 codes of Yantai and its districts and county-level cities.
REGIONS = _terms(
    ("370600", "烟台市", "Yantai"),
    ("370602", "芝罘区", "Zhifu District"),
    ("370611", "福山区", "Fushan District"),
    ("370612", "牟平区", "Muping District"),
    ("370613", "莱山区", "Laishan District"),
    ("370614", "蓬莱区", "Penglai District"),
    ("370681", "龙口市", "Longkou"),
    ("370682", "莱阳市", "Laiyang"),
    ("370683", "莱州市", "Laizhou"),
    ("370685", "招远市", "Zhaoyuan"),
    ("370686", "栖霞市", "Qixia"),
    ("370687", "海阳市", "Haiyang"),
)

# The policy domains; each is a CKAN group whose name is the code.
DOMAINS = _terms(
    ("credit", "信用", "Credit"),
    ("transport", "交通", "Transport"),
    ("medical", "医疗", "Medical care"),
    ("health", "卫生", "Public health"),
    ("employment", "就业", "Employment"),
    ("social-security", "社保", "Social security"),
    ("culture", "文化", "Culture"),
    ("science", "科技", "Science and technology"),
    ("environment", "环境", "Environment"),
    ("finance", "金融", "Finance"),
    ("enterprise", "企业登记监管", "Enterprise registration and supervision"),
)

VOCABULARIES: dict[str, tuple[Term, ...]] = {
    "update_cycle": UPDATE_CYCLES,
    "open_type": OPEN_TYPES,
    "share_type": SHARE_TYPES,
    "share_method": SHARE_METHODS,
    "security_class": SECURITY_CLASSES,
    "category_attribute": CATEGORY_ATTRIBUTES,
    "data_type": DATA_TYPES,
    "format_class": FORMAT_CLASSES,
    "record_type": RECORD_TYPES,
    "dept_type": DEPT_TYPES,
    "region": REGIONS,
    "domain": DOMAINS,
}


def values(vocabulary: str) -> frozenset[str]:
    return frozenset(term.value for term in VOCABULARIES[vocabulary])


def label(vocabulary: str, value: str, lang: str = "zh") -> str:
    """The label of a code, or the code itself when it is not in the vocabulary."""
    for term in VOCABULARIES[vocabulary]:
        if term.value == value:
            return term.en if lang.startswith("en") else term.zh
    return value


def choices(vocabulary: str) -> list[dict[str, object]]:
    """Scheming choices: [{"value": code, "label": {"zh_Hans_CN": …, "en": …}}]."""
    return [{"value": t.value, "label": {"zh_Hans_CN": t.zh, "en": t.en}}
            for t in VOCABULARIES[vocabulary]]
