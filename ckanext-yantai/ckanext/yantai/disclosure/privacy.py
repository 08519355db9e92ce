"""双公示 records: personal data masked, as pure functions (the public form of a record).

``mask`` gives the public form of a record: what every public channel shows (the DataStore
table, the compliance pages and exports). ``mask_text`` hides personal data in free text;
``mask_identifiers`` hides identity numbers and mobiles in any text (the log masking of
``log_privacy`` uses it).

Pure (no CKAN): it knows the standard's fields (``standard``) and nothing later in the pipeline.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from stdnum.cn import ric as stdnum_ric

from ckanext.yantai import codes
from ckanext.yantai.disclosure.standard import (
    CATEGORY,
    CATEGORY_ORG,
    FIELDS,
    ID_NUMBER,
    LEGAL_REP,
    LICENSE_AUTHORITY,
    LICENSE_AUTHORITY_CODE,
    LICENSE_DOC_NO,
    LICENSE_NO,
    NAME,
    PARTY_CODES,
    PENALTY_AUTHORITY,
    PENALTY_AUTHORITY_CODE,
    PENALTY_DOC_NO,
    REP_ID,
    SOURCE,
    SOURCE_CODE,
    term,
)

# Masking decides on a normalised view of the text: NFKC (full-width digits are digits), format
# characters (zero-width spaces and joiners, soft hyphens, BOM, direction marks) dropped, every
# dash a '-' and every space a ' '; and up to three spaces, dashes or dots may stand between the
# digits of a number, so that 370602 19680722 3341, 139-8765-4321 and +86 139 8765 4321 are the
# numbers they are. What it finds is replaced in the text as written; the rest is kept as is.

_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63",
                                      "-"))
# \uXXXX, \xXX escapes as repr() and JSON write them in log lines
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|U([0-9a-fA-F]{8}))")


def _view(text: str, escapes: bool = False) -> tuple[str, list[int], list[int]]:
    """The normalised view of ``text``, and for each of its characters the span of the original
    characters it comes from (start and end index lists)."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    index, length = 0, len(text)
    while index < length:
        char, end = text[index], index + 1
        if escapes and char == "\\" and (escape := _ESCAPE.match(text, index)):
            code = int(escape[1] or escape[2] or escape[3], 16)
            if code < 0x110000:
                decoded = chr(code)
                if unicodedata.category(decoded) == "Cf" or decoded.isspace() or \
                        unicodedata.normalize("NFKC", decoded).isalnum():
                    char, end = decoded, escape.end()
        if char.isascii():
            folded = " " if char.isspace() else char
        elif unicodedata.category(char) == "Cf":
            index = end
            continue
        else:
            folded = unicodedata.normalize("NFKC", char).translate(_DASHES)
        for c in folded:
            chars.append(" " if c.isspace() else c)
            starts.append(index)
            ends.append(end)
        index = end
    return "".join(chars), starts, ends


_SEP = r"[ .\-]{0,3}"  # between the digits of a number
_NOT_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_AFTER = r"(?![0-9A-Za-z])"
_ID18 = re.compile(rf"{_NOT_BEFORE}\d(?:{_SEP}\d){{16}}{_SEP}[\dXx]{_NOT_AFTER}")
_ID15 = re.compile(rf"{_NOT_BEFORE}\d(?:{_SEP}\d){{14}}{_NOT_AFTER}")
# +86 / 0086 / (+86) / 86 before a mobile: the country code stays, the number is masked
_MOBILE = re.compile(rf"(?<![0-9A-Za-z+])(?:(?:\+|00){_SEP}86{_SEP}|\({_SEP}(?:\+|00)?86{_SEP}\)"
                     rf"{_SEP}|86{_SEP})?(?P<number>1{_SEP}[3-9](?:{_SEP}\d){{9}}){_NOT_AFTER}")
_LANDLINE = re.compile(rf"{_NOT_BEFORE}(?P<area>\({_SEP}0\d{{2,3}}{_SEP}\)|0\d{{2,3}}){_SEP}"
                       rf"[2-9](?:{_SEP}\d){{6,7}}{_NOT_AFTER}")
_CARD = re.compile(rf"{_NOT_BEFORE}(?:\d{{16,19}}|\d{{4}}(?:[ \-]{{1,3}}\d{{4}}){{3}}"
                   rf"(?:[ \-]{{0,3}}\d{{1,3}})?){_NOT_AFTER}")
_ACCOUNT = re.compile(rf"(?:银行卡|银行账户|银行账号|银行帐号|账号|帐号|账户|卡号)(?:号码|号)?"
                      rf"[:：为是]?{_SEP}(?P<number>\d(?:{_SEP}\d){{7,29}}){_NOT_AFTER}")

# Addresses: a sequence of place components, from the province down to the room. Names are CJK
# without the words that join a sentence (的, 在, 于, 住 …) and without 省市区县, so that an
# address starts where the sentence hands over to it.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_NAME = rf"(?:(?![的在于住是了将向从到和与及等其被把对经因为系称该并且而或由自至省市区县])[{_CJK}])"
_ADMIN_KEPT = r"特别行政区|自治区|自治州|自治县|自治旗|开发区|高新区|新区|地区|省|市|州|盟|区|县|旗"
_ADMIN = rf"{_NAME}{{1,8}}(?:{_ADMIN_KEPT}|街道|镇|乡)"
# a street or estate that names an office, a court, a market … is not a home
_NOT_ORGANISATION = (r"(?![道办委局院所处队站厅会派政店村]"
                     r"|中心|公司|医院|学校|市场|商场|超市|酒店|宾馆)")
_STREET = (rf"{_NAME}{{1,8}}"
           r"(?:大街|大道|胡同|新村|小区|社区|花园|公寓|大厦|家园|路|街|巷|弄|村|屯|苑)")
_NUMBER = (r"(?:\d+(?:-\d+)*|[一二三四五六七八九十百零〇两]+|[A-Za-z])"
           r"(?:号院|号楼|号|栋|幢|座|单元|楼|层|室|户|组)(?:(?<=[元楼栋幢])\d{1,5}(?![\d年月日元万时分秒室户号]))?")
# each component atomic: a text of many place-like words cannot make the search backtrack
_LOW = rf"(?>{_STREET}{_NOT_ORGANISATION}|{_NUMBER})"
_ADDRESS = rf"(?>{_ADMIN}){{1,6}}{_LOW}+|{_LOW}{{2,}}"
_ADDRESS_IN_TEXT = re.compile(_ADDRESS)
_KEPT_PREFIX = re.compile(rf"{_NAME}{{1,8}}(?:{_ADMIN_KEPT})")
_PERSONAL_CUES = (r"家庭住址|家庭地址|现住址|住址|户籍地址|户籍所在地|户籍地|户籍|"
                  r"居住地址|居住地|现住|家住|暂住|居住于|居住在|住在")
_NEUTRAL_CUES = r"联系地址|通讯地址|通信地址|地址|住所地|住所"
# After a cue, an address the components above do not read (住址不详, 住址某某小区) ends at the
# punctuation, or where the sentence goes on (销售过期食品…): only the address is hidden.
_CONTINUES = (r"[的在于]|销售|经营|生产|加工|从事|未经|未按|未取得|无证|无照|因|违反|擅自|私自|"
              r"使用|存在|拒不|涉嫌|利用|被")
_CUE_BODY = (rf"(?P<body>(?>{_ADMIN}|{_LOW})+"
             rf"|(?:(?!{_CONTINUES})[^，。；;,、()\[\]【】<>《》\"'“”‘’\s#])"
             r"{1,20})")
_PERSONAL_CUE = re.compile(rf"(?:{_PERSONAL_CUES})[:：为是在于]?\s*{_CUE_BODY}"
                           rf"|(?<![居暂现家])住[在于]?(?P<address>{_ADDRESS})")
_NEUTRAL_CUE = re.compile(rf"(?:{_NEUTRAL_CUES})[:：为是在于]?\s*{_CUE_BODY}")
_ADDRESS_CHARS = frozenset("省市区县镇乡街道路巷弄村屯苑号栋幢座单元楼层室户组址住所籍")


def _number(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", text).upper()


def _valid_date(year: str, month: str, day: str) -> bool:
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _identity_number(number: str, strict: bool) -> bool:
    """Whether 18 or 15 digits are a resident identity number: a birth date where it belongs; with
    ``strict`` (fields of codes and document numbers, which have long numbers of their own) the
    check character too. A valid credit code made of digits is not one."""
    if len(number) == 15:
        return _valid_date("19" + number[6:8], number[8:10], number[10:12]) and (
            not strict or codes.ric_error(number) is None)
    if number[6:8] not in ("18", "19", "20") or not _valid_date(number[6:10], number[10:12],
                                                                  number[12:14]):
        return False
    checked = number[17] == stdnum_ric.calc_check_digit(number)
    if strict:
        return checked
    return checked or codes.uscc_error(number) is not None


def _masked_id(number: str) -> str:
    """370602********123X: region and last four kept, the birth date hidden; 15 digits:
    370602******123."""
    if len(number) == 15:
        return number[:6] + "*" * 6 + number[-3:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


class _Masking:
    """One text being masked: what was found (spans of the view and their replacements)."""

    def __init__(self, text: str, escapes: bool = False) -> None:
        self.text = text
        self.view, self.starts, self.ends = _view(text, escapes)
        self.found: list[tuple[int, int, str]] = []

    def claim(self, start: int, end: int, replacement: str) -> None:
        self.found.append((start, end, replacement))
        # claimed characters are no digits or names for the kinds searched after them
        self.view = self.view[:start] + "#" * (end - start) + self.view[end:]

    def scan(self, pattern: re.Pattern[str], replace: Any, group: int | str = 0) -> None:
        """Every match of ``pattern`` that ``replace`` accepts (a replacement, or None), trying
        each position so that a rejected candidate never hides one that overlaps it."""
        position = 0
        while (match := pattern.search(self.view, position)) is not None:
            replacement = replace(match)
            if replacement is None:
                position = match.start() + 1
                continue
            start, end = match.span(group)
            self.claim(start, end, replacement)
            position = match.end()

    def result(self) -> str:
        if not self.found:
            return self.text
        out, position = [], 0
        for start, end, replacement in sorted(self.found):
            begin = self.starts[start]
            if begin < position:  # a view character of several original ones, already out
                continue
            out += [self.text[position:begin], replacement]
            position = self.ends[end - 1]
        out.append(self.text[position:])
        return "".join(out)


def _identities(masking: _Masking, strict: bool) -> None:
    def identity(match: re.Match[str]) -> str | None:
        number = _number(match[0])
        return _masked_id(number) if _identity_number(number, strict) else None

    masking.scan(_ID18, identity)
    masking.scan(_ID15, identity)


def _mobiles(masking: _Masking) -> None:
    def mobile(match: re.Match[str]) -> str:
        number = _number(match["number"])
        return number[:3] + "****" + number[-4:]

    masking.scan(_MOBILE, mobile, "number")


def _cards(masking: _Masking) -> None:
    def card(match: re.Match[str]) -> str:
        number = _number(match["number"] if "number" in match.re.groupindex else match[0])
        return "*" * (len(number) - 4) + number[-4:]

    masking.scan(_ACCOUNT, card, "number")
    masking.scan(_CARD, card)


def _landlines(masking: _Masking) -> None:
    masking.scan(_LANDLINE, lambda m: _number(m["area"]) + "-********")


def _addresses(masking: _Masking, person: bool, places: bool = True) -> None:
    if not _ADDRESS_CHARS.intersection(masking.view):
        return

    def cue(match: re.Match[str]) -> str:
        return "***"

    def address(match: re.Match[str]) -> str:
        # the city and district stay (烟台市芝罘区***), the rest is hidden
        kept, position = [], match.start()
        while (part := _KEPT_PREFIX.match(masking.view, position, match.end())) is not None \
                and part.end() < match.end():
            kept.append(part[0])
            position = part.end()
        return "".join(kept) + "***"

    masking.scan(_PERSONAL_CUE, lambda m: cue(m) if m["body"] else None, "body")
    masking.scan(_PERSONAL_CUE, lambda m: cue(m) if m["address"] else None, "address")
    if person:  # a firm's address, with or without 地址/住所, is public
        masking.scan(_NEUTRAL_CUE, cue, "body")
        if places:
            masking.scan(_ADDRESS_IN_TEXT, address)


def _has_digits_or_places(text: str) -> bool:
    return any(c.isdigit() for c in text) or not text.isascii()


def mask_id(value: str) -> str:
    """An identity document's number: 370602********123X (region and last four kept, the birth
    date hidden), 370602******123 for a 15-digit one; another document's number keeps its first
    and last two characters."""
    text = _view(value)[0]
    number = re.sub(r"[ .\-]", "", text).upper()
    if re.fullmatch(r"\d{17}[\dX]|\d{15}", number):
        return _masked_id(number)
    if len(number) > 4:
        return number[:1] + "*" * (len(number) - 3) + number[-2:]
    return "*" * len(number)


def mask_text(text: str, *, person: bool = True, places: bool = True) -> str:
    """Free text with identity numbers, mobiles, bank cards, and (``person``: in the record of a
    natural person, who is the default) landlines and addresses hidden; home addresses after 住址,
    家住, 户籍 … are hidden in any record. Without ``places``, an address needs such a word (a
    个体工商户's name, 芝罘区幸福路老张烧烤店, names its street)."""
    if not text or not _has_digits_or_places(text):
        return text
    masking = _Masking(text)
    _identities(masking, strict=False)
    _cards(masking)
    _mobiles(masking)
    if person:
        _landlines(masking)
    _addresses(masking, person, places)
    return masking.result()


def mask_identifiers(text: str) -> str:
    """Identity numbers and mobile phones hidden, in any form (for log lines: narrower than
    ``mask_text``, so that timestamps and other long numbers of a log stay readable; escapes
    such as \\u200b that repr() and JSON write are read as the characters they stand for)."""
    if not text or not any(c.isdigit() for c in text):
        return text
    masking = _Masking(text, escapes=True)
    _identities(masking, strict=False)
    _mobiles(masking)
    return masking.result()


def _mask_identifier_field(text: str) -> str:
    """Codes and document numbers: identity numbers (with a valid check character, as these
    fields have long numbers of their own) and mobiles hidden, nothing else touched."""
    if not text or not any(c.isdigit() for c in text):
        return text
    masking = _Masking(text)
    _identities(masking, strict=True)
    _mobiles(masking)
    return masking.result()


def _mask_authority_field(text: str) -> str:
    """The authority's name: identity numbers, mobiles and cards hidden; its own landline and
    address (a 街道办事处's name reads like one) are public."""
    if not text or not any(c.isdigit() for c in text):
        return text
    masking = _Masking(text)
    _identities(masking, strict=False)
    _cards(masking)
    _mobiles(masking)
    return masking.result()


_ID_FIELDS = frozenset({ID_NUMBER, REP_ID})
_IDENTIFIER_FIELDS = frozenset({*PARTY_CODES, LICENSE_DOC_NO, PENALTY_DOC_NO, LICENSE_NO,
                                LICENSE_AUTHORITY_CODE, PENALTY_AUTHORITY_CODE, SOURCE_CODE})
_AUTHORITY_FIELDS = frozenset({LICENSE_AUTHORITY, PENALTY_AUTHORITY, SOURCE})


def mask(record_type: str, fields: Mapping[str, str]) -> dict[str, str]:
    """The public form of a record: the standard's fields only, personal data hidden in every one.

    Identity numbers of parties and legal representatives are masked whatever the category (a
    个体工商户's operator is a person too). Every other field loses any identity number, mobile or
    bank card written into it, in any form; codes and document numbers keep their own long
    numbers, the authority and the party their names. Landlines and addresses are a person's in
    the record of a natural person or a 个体工商户 (or of a party of unknown category) and hidden
    there; in the record of a 法人及非法人组织 they are the firm's and public, except a home
    address (住址, 家住, 户籍 …). Columns the standard does not have are not part of the public
    form at all.
    """
    person = term(fields.get(CATEGORY) or "") != CATEGORY_ORG
    public: dict[str, str] = {}
    for name in FIELDS[record_type]:
        value = fields.get(name) or ""
        if not value:
            pass
        elif name in _ID_FIELDS:
            value = mask_id(value)
        elif name in _IDENTIFIER_FIELDS:
            value = _mask_identifier_field(value)
        elif name in _AUTHORITY_FIELDS:
            value = _mask_authority_field(value)
        elif name in (NAME, LEGAL_REP):
            value = mask_text(value, person=person, places=False)
        else:
            value = mask_text(value, person=person)
        public[name] = value
    return public
