"""Pure rules for the catalogue's codes and names: no CKAN imports, one finding per bad value.

Each check returns None when the value is good, or an error code that the validators turn into a
message (``messages.py``). Values are normalised first the way people type them: full-width
characters, spaces, hyphens and lower case.
"""
from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
import re
import unicodedata
from typing import NamedTuple

from pypinyin import Style, lazy_pinyin, load_phrases_dict
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric as stdnum_ric

# Place names that pypinyin reads wrongly out of context.
load_phrases_dict({"长岛": [["cháng"], ["dǎo"]]})


def fold_width(value: str) -> str:
    """Full-width letters, digits and punctuation to their half-width forms (ＡＢ１２－ → AB12-)."""
    if value.isascii() or unicodedata.is_normalized("NFKC", value):  # nothing to fold
        return value
    return unicodedata.normalize("NFKC", value)


# -- unified social credit codes (GB 32100-2015) --------------------------------------------------

def normalise_uscc(value: str) -> str:
    if value.isalnum() and value.isascii():
        return value.upper()
    return re.sub(r"[\s\-]", "", fold_width(value)).upper()


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
_USCC_VALUES = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def uscc_error(value: str, embedded: bool = False) -> str | None:
    """None for a valid 统一社会信用代码 (after normalising), else the reason.

    With ``embedded``, the organisation code at positions 9-17 must pass its own check too (the
    双公示 rules ask for it; python-stdnum checks only the code's last character).
    """
    return _uscc_error(normalise_uscc(value), embedded)


@functools.lru_cache(maxsize=65536)
def _uscc_error(code: str, embedded: bool) -> str | None:
    # The check of python-stdnum's stdnum.cn.uscc (which the tests hold this to), written out:
    # a million 双公示 records carry three or four codes each, and stdnum takes ~90 µs per code.
    # Cached: authorities' and sources' codes recur in every record.
    if len(code) != 18:
        return "uscc_length"
    # Positions 1-2 (registration authority, entity type) may be letters (A, N, Y…);
    # 3-8 are a GB/T 2260 region code.
    if not _USCC_FORM.match(code):
        return "uscc_characters"
    total = sum(map(operator.mul, map(_USCC_VALUES.__getitem__, code[:17]), _USCC_WEIGHTS))
    if code[17] != _USCC_ALPHABET[(31 - total % 31) % 31]:
        return "uscc_checksum"
    return _org_code_error(code[8:17]) if embedded else None


_USCC_FORM = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


# GB 11714 organisation code embedded at positions 9-17 of a USCC: 8 characters and a mod-11 check.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def _org_code_error(org: str) -> str | None:
    total = sum(map(operator.mul, map(_ORG_VALUES.__getitem__, org[:8]), _ORG_WEIGHTS))
    check = 11 - total % 11
    expected = "X" if check == 10 else "0" if check == 11 else str(check)
    return None if org[8] == expected else "uscc_org_code"


# -- resident identity numbers (GB 11643-1999) ---------------------------------------------------

def normalise_ric(value: str) -> str:
    if value.isalnum() and value.isascii():
        return value.upper()
    return re.sub(r"[\s\-]", "", fold_width(value)).upper()


@functools.lru_cache(maxsize=65536)
def ric_error(value: str) -> str | None:
    """None for a valid 居民身份证号码, else the reason.

    18 characters: a region code known for the birth year (python-stdnum's table), the birth
    date, a sequence and the check character; or a legacy 15-digit number (birth year 19YY, no
    check character).
    """
    number = normalise_ric(value)
    if len(number) == 15 and number.isdigit():
        birth = _date_or_none("19" + number[6:8], number[8:10], number[10:12])
        if birth is None or _region_unknown(number[:6], birth.year):
            return "ric_format"
        return None
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return "ric_format"
    birth = _date_or_none(number[6:10], number[10:12], number[12:14])
    if birth is None or _region_unknown(number[:6], birth.year):
        return "ric_format"
    if number[17] != stdnum_ric.calc_check_digit(number):
        return "ric_checksum"
    return None


def _date_or_none(year: str, month: str, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


@functools.lru_cache(maxsize=8192)
def _region_unknown(region: str, year: int) -> bool:
    # stdnum's region lookup is slow and the same few regions recur: cached per region and year.
    try:
        stdnum_ric.get_birth_place(f"{region}{year:04d}01010000")
    except stdnum_errors.ValidationError:
        return True
    return False


def ric_birth_date(value: str) -> dt.date | None:
    """The holder's birth date, None when the number is not valid."""
    if ric_error(value) is not None:
        return None
    number = normalise_ric(value)
    if len(number) == 15:
        return _date_or_none("19" + number[6:8], number[8:10], number[10:12])
    return _date_or_none(number[6:10], number[10:12], number[12:14])


# -- 信息资源分类 and 信息资源代码 ---------------------------------------------------------------

CATEGORY = re.compile(r"^(?P<cls>[1-3])-(?P<item>\d{2})-(?P<catalog>\d{3})(?:-(?P<sub>\d{1,6}))?$")
RESOURCE_CODE = re.compile(r"^(?P<category>[0-9-]+)/(?P<sequence>\d{4,8})$")


class Category(NamedTuple):
    cls: str  # 类: 1 基础, 2 主题, 3 部门
    item: str  # 项
    catalog: str  # 目
    sub: str  # 细目, may be empty

    @property
    def code(self) -> str:
        return "-".join(p for p in (self.cls, self.item, self.catalog, self.sub) if p)


def normalise_code(value: str) -> str:
    return re.sub(r"\s", "", fold_width(value))


def parse_category(value: str) -> Category | None:
    match = CATEGORY.match(normalise_code(value))
    if not match:
        return None
    return Category(match["cls"], match["item"], match["catalog"], match["sub"] or "")


def resource_code_error(code: str, category: str | None) -> str | None:
    """信息资源代码 = classification code + "/" + sequence code, e.g. 2-02-003/0001."""
    match = RESOURCE_CODE.match(normalise_code(code))
    if not match or parse_category(match["category"]) is None:
        return "resource_code_format"
    if category and parse_category(category) and match["category"] != normalise_code(category):
        return "resource_code_category"
    return None


# -- contact points ------------------------------------------------------------------------------

# A mobile number anywhere in the digits: with a country code (+86, 0086), an area-code prefix or an
# "extension" glued on, it is still a person's phone.
MOBILE = re.compile(r"(?:^|^\+?86|^0086|^0\d{2,3})1[3-9]\d{9}(?:\d{0,5})$")
LANDLINE = re.compile(r"^(?:0\d{2,3})?\d{7,8}(?:-?\d{1,5})?$")
HOTLINE = re.compile(r"^(?:1\d{4}|[48]00\d{7})$")  # 12345 style service numbers, 400/800 lines


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s\-()（）]", "", fold_width(value))


def office_phone_error(value: str) -> str | None:
    """A department office's number: a landline or a service hotline, never a mobile phone."""
    phone = normalise_phone(value)
    if MOBILE.search(phone):
        return "phone_mobile"
    if LANDLINE.match(phone) or HOTLINE.match(phone):
        return None
    return "phone_format"


# -- URL names from Chinese titles ---------------------------------------------------------------

NAME_MAX = 90


def pinyin_slug(title: str, max_length: int = NAME_MAX) -> str:
    """A readable URL name: the title's pinyin, one syllable per hyphen-separated part.

    烟台市公交线路站点信息 → yan-tai-shi-gong-jiao-xian-lu-zhan-dian-xin-xi. Latin letters and
    digits are kept (lower case); anything else separates parts. Cut at a part boundary.
    """
    parts: list[str] = []
    for chunk in lazy_pinyin(fold_width(title), style=Style.NORMAL, errors="default"):
        parts.extend(p for p in re.split(r"[^a-z0-9]+", chunk.lower()) if p)
    slug = ""
    for part in parts:
        candidate = f"{slug}-{part}" if slug else part
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug


HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def pinyin_search_terms(text: str) -> list[str]:
    """Pinyin words for search: for each pair of adjacent Han characters, their full pinyin and
    their initials run together (公交 → gongjiao, gj), as the index pairs the characters themselves.
    So q=gongjiao and q=gj find 公交."""
    terms: list[str] = []
    for run in HAN.findall(text):
        syllables = lazy_pinyin(run, style=Style.NORMAL)
        for first, second in itertools.pairwise(syllables):
            terms += [first + second, first[:1] + second[:1]]
    return list(dict.fromkeys(terms))


# -- text as searched -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _simplified() -> dict[int, str]:
    """Traditional → simplified, character by character (zhconv's tables, MediaWiki's)."""
    from zhconv import zhconv

    return {ord(k): v for k, v in zhconv.getdict("zh-hans").items() if len(k) == 1 and len(v) == 1}


def search_text(value: str) -> str:
    """A name as it is searched and indexed: half-width (NFKC), simplified characters, without
    invisible characters (zero-width spaces, joiners, marks, controls), Latin letters in upper
    case, runs of spaces as one. 烟台 恒瑞\u200b化工 and 煙臺恆瑞化工 read as 烟台 恒瑞化工."""
    text = unicodedata.normalize("NFKC", value).translate(_simplified())
    text = "".join(" " if char.isspace() else char for char in text
                   if char.isspace() or unicodedata.category(char) not in ("Cf", "Cc", "Mn", "Me"))
    return " ".join(text.upper().split())


# 〔2026〕, [2026], 【2026】, (2026) and （2026） are the same year in a document number
_OPENING, _CLOSING = "[【〔([{〖", "]】〕)]}〗"
_BRACKETS = str.maketrans({**dict.fromkeys(_OPENING, "〔"), **dict.fromkeys(_CLOSING, "〕")})


def document_number(value: str) -> str:
    """A decision document number as compared: searched text without spaces, every kind of
    bracket as 〔〕 (烟芝市监处罚[2026]12号 is 烟芝市监处罚〔2026〕12号)."""
    return search_text(value).replace(" ", "").translate(_BRACKETS)
