"""The classified firewall: find classification markings (密级标志) in what is about to be stored.

The portal is a 非涉密 system. A marking is a classification level followed by ★ or 级
(``秘密★10年``, ``机密级``), a 密级 label with a level (``密级：绝密``), or the levels 绝密 and 机密
on their own. Plain 秘密 is everyday language in open data (商业秘密, 不涉及国家秘密) and so are
商业机密 and 技术秘密; those are not markings.

Markings are matched on one normalised view of the text (``normalise``), whatever disguise it
wears: full-width or compatibility forms, traditional characters, zero-width and other invisible
characters, HTML entities, tags and comments, markdown emphasis and links, spaces and separator
punctuation between the characters, any star-like symbol for ★. Every field of every object is
checked (``findings``), uploads as a whole stream, office documents' XML parts and archives'
members included (``upload_rule``), and DataStore rows (``records_rule``).

Pure functions: text in, rule out; the caller refuses and audits.
"""
from __future__ import annotations

import codecs
import html
import io
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, BinaryIO
from xml.parsers.expat import ExpatError

from charset_normalizer import from_bytes
from zhconv import zhconv

from ckanext.yantai import feedsafety

BREAK = "|"  # where the normalised view keeps a boundary a marking may not span
STAR = "★"
_LEVEL = "(?:绝密|机密|秘密)"
# Everyday words that hold a level: 商业秘密/机密, 技术秘密, 经营机密; 手机密码, 随机密钥,
# 机密性 (confidentiality), 计算机密集型, 有机密封, 杜绝密码泄露.
_EVERYDAY_BEFORE = "(?<!商业)(?<!技术)(?<!经营)"
_EVERYDAY_AFTER = "(?![码钥性集度封])"
MARKINGS = (
    ("level_star", re.compile(f"{_LEVEL}{STAR}")),
    ("level_grade", re.compile(f"{_EVERYDAY_BEFORE}{_LEVEL}级")),
    ("level_label", re.compile(f"密级(?:为|是)?{_LEVEL}")),
    ("top_secret", re.compile(f"绝密{_EVERYDAY_AFTER}")),
    ("confidential", re.compile(f"{_EVERYDAY_BEFORE}(?<!手)(?<!随)机密{_EVERYDAY_AFTER}")),
)
# Every character whose normalised form holds one of the characters of a marking's level
# (tests/yantai/test_classified.py checks this against all of Unicode): text without any of
# them, nor an entity (&), cannot hold a marking, so large uploads skip most normalising.
TRIGGERS = frozenset("㊙密机機祕秘級絕絶级绝宻&")
_TRIGGER = re.compile("[" + "".join(sorted(TRIGGERS)) + "]")
# Variants the conversion tables leave alone.
_VARIANTS = {"宻": "密"}
# Separator punctuation between two characters is dropped; these end a clause and are kept.
_BREAKERS = frozenset("。，、；！？,;!?\u2029")
_STAR_WORDS = frozenset({"STAR", "STARS", "ASTERISK", "ASTERISKS", "ASTERISM"})

_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n")
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)  # an unclosed comment hides the rest
_TAG = re.compile(r"</?[A-Za-z!?/][^<>]{0,2000}>")
_LINK = re.compile(r"!?\[([^\[\]]{0,500})\](?:\([^()]{0,2000}\)|\[[^\[\]]{0,200}\])")
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|~{1,2})(?=\S)(.{1,500}?)(?<=\S)\1", re.DOTALL)


@lru_cache(maxsize=1)
def _simplified() -> dict[int, str]:
    """Traditional → simplified, character by character, from zhconv's tables (MediaWiki's)."""
    table = {ord(k): v for k, v in zhconv.getdict("zh-hans").items()
             if len(k) == 1 and len(v) == 1}
    table.update({ord(k): v for k, v in _VARIANTS.items()})
    return table


def _is_star(char: str) -> bool:
    return unicodedata.category(char)[0] in "SP" and bool(
        _STAR_WORDS & set(unicodedata.name(char, "").replace("-", " ").split()))


def _fold(char: str) -> str:
    """Simplified; invisible (format, combining, control) characters dropped; whitespace
    controls as spaces."""
    code = ord(char)
    simple = _simplified().get(code)
    if simple is not None:
        return simple
    if unicodedata.category(char) in ("Cf", "Mn", "Me", "Cc", "Co"):
        return " " if char in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85" else ""
    return char


def _compact(char: str) -> str:
    """Letters and numbers kept, star-like symbols as ★, clause punctuation as BREAK, every
    other space, punctuation or symbol dropped."""
    if char in _BREAKERS:
        return BREAK
    if unicodedata.category(char)[0] in "LN":
        return char
    return STAR if _is_star(char) else ""


class _Table(dict):  # type: ignore[type-arg]
    """A str.translate table filled as characters are met (all of Unicode would take a
    second to build; a text meets a few thousand)."""

    def __init__(self, *steps: Callable[[str], str]) -> None:
        super().__init__()
        self.steps = steps

    def __missing__(self, code: int) -> str | None:
        value = chr(code)
        for step in self.steps:
            value = "".join(step(char) for char in value)
        self[code] = value or None
        return value or None


_FOLD = _Table(_fold)
_COMPACT = _Table(_compact)
_FOLD_COMPACT = _Table(_fold, _compact)  # both at once, for text without markup
_MARKUP = re.compile(r"[<\[*_~]")


def _unescape(text: str) -> str:
    for _ in range(4):  # &amp;#32477; and deeper
        if "&" not in text:
            break
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    return text


def normalise(text: str) -> str:
    """The view markings are matched on: entities resolved, compatibility forms (full-width,
    circled) folded (NFKC), traditional characters simplified, invisible characters dropped,
    markdown emphasis markers dropped, star-like symbols as ★, and spaces and separator
    punctuation between characters gone; clause punctuation (。，；…) and blank lines stay as
    ``BREAK``. Text with HTML or markdown links gets two views, joined by BREAK: as rendered
    (tags, comments and link targets removed: ``绝<!-- -->密``) and with what they hide kept
    (a comment's text, an attribute, a URL are stored all the same). Not for display: only
    letters, numbers, ★ and BREAK remain."""
    text = unicodedata.normalize("NFKC", _unescape(text))
    if "&" in text:  # full-width entities, once folded
        text = unicodedata.normalize("NFKC", _unescape(text))
    if "\n" in text:
        text = _PARAGRAPH.sub("\u2029", text)
    if not _MARKUP.search(text):
        return text.translate(_FOLD_COMPACT)
    text = text.translate(_FOLD)
    for _ in range(3):  # ***nested*** emphasis: the markers go, the words stay
        text, count = _EMPHASIS.subn(r"\2", text)
        if not count:
            break
    if "<" not in text and "[" not in text:
        return text.translate(_COMPACT)
    rendered = text
    if "<" in rendered:
        rendered = _TAG.sub("", _COMMENT.sub("", rendered))
    if "[" in rendered:
        rendered = _LINK.sub(r"\1", rendered)
    return rendered.translate(_COMPACT) + BREAK + text.translate(_COMPACT)


_ANY_LEVEL = re.compile("绝密|机密|秘密|密级")


def match(compact: str) -> str | None:
    """The first marking rule the normalised text breaks, or None."""
    if not _ANY_LEVEL.search(compact):
        return None
    for name, pattern in MARKINGS:
        if pattern.search(compact):
            return name
    return None


def rule(text: Any) -> str | None:
    """The first marking rule the text breaks, or None."""
    if not isinstance(text, str) or not text:
        return None
    return match(normalise(text))


# -- objects: datasets, organizations, groups, views, rows -----------------------------------------

_FIELD_NAME = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def _segment(key: Any) -> str:
    # A key that is not a field name (an extra's, a record's header) is not quoted back.
    return key if isinstance(key, str) and _FIELD_NAME.fullmatch(key) else "extras"


def findings(data: Any, path: str = "") -> dict[str, str]:
    """Marking rules broken anywhere in a structure, keys and values at any depth:
    ``{dotted path: rule}``, e.g. ``tags.0.name``, ``resources.1.format``. Paths name fields,
    never the content (a key that is not a field name is reported as ``extras``)."""
    found: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            hit = rule(value)
            if hit:
                found.setdefault(where or "extras", hit)
        elif isinstance(value, dict):
            for key, item in value.items():
                inner = f"{where}.{_segment(key)}" if where else _segment(key)
                hit = rule(key)
                if hit:
                    found.setdefault(inner, hit)
                stack.append((inner, item))
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{where}.{i}" if where else str(i), item)
                         for i, item in enumerate(value))
    return found


def dataset_findings(data: dict[str, Any]) -> dict[str, str]:
    """Marking rules broken by a dataset dict, every text of it (tags, extras, information
    items, resources' every field, …): ``{error path: rule}``. A security_class other than
    非涉密 is reported as the rule ``security_class``."""
    found = findings({k: v for k, v in data.items() if k != "security_class"})
    if data.get("security_class") not in (None, "", "non_classified"):
        found["security_class"] = "security_class"
    return found


def records_rule(records: Any) -> str | None:
    """The marking rule broken by any cell of DataStore rows (a list of row dicts), header
    keys included, or None."""
    rows = [records] if isinstance(records, dict) else records
    if not isinstance(rows, (list, tuple)):
        return None
    scanner = _Scanner()
    try:
        for row in rows:
            for key, value in (row.items() if isinstance(row, dict) else enumerate(
                    row if isinstance(row, (list, tuple)) else [row])):
                for text in (key, value) if isinstance(key, str) else (value,):
                    if isinstance(text, str):
                        scanner.text(text)
                    elif isinstance(text, (dict, list, tuple)):
                        hit = next(iter(findings(text).values()), None)
                        if hit:
                            return hit
                    scanner.end_unit()
        scanner.finish()
    except _Found as found:
        return found.rule
    return None


# -- uploads: the whole stream, by content ---------------------------------------------------------

MB = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """How much of an upload is read to look for markings; past these it is refused unread."""

    max_bytes: int = 100 * MB
    archive: feedsafety.ArchiveLimits = field(default_factory=feedsafety.ArchiveLimits)
    sheets: feedsafety.SheetLimits = field(default_factory=feedsafety.SheetLimits)


class _Found(Exception):
    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class _Scanner:
    """Text fed piece by piece (cells, paragraphs, decoded chunks), matched in windows of the
    normalised view; a window's last characters are kept so that a marking across two pieces
    is found. ``end_unit`` marks a boundary (a cell, a paragraph) a marking may not span."""

    WINDOW = 64 * 1024
    TAIL = 8  # the longest marking with its lookbehind is shorter

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.tail = ""

    def text(self, piece: str) -> None:
        if piece:
            self.parts.append(piece)
            self.size += len(piece)
            if self.size >= self.WINDOW:
                self._flush(final=False)

    def end_unit(self) -> None:
        if not self.parts:
            self.tail = (self.tail + BREAK)[-self.TAIL:]
        elif self.parts[-1] != "\u2029":
            self.text("\u2029")

    def finish(self) -> None:
        self._flush(final=True)
        self.tail = ""

    def _flush(self, final: bool) -> None:
        text = "".join(self.parts)
        rest = ""
        if not final:
            # Cut where an entity, tag or emphasis is least likely to be split.
            cut = max(text.rfind(c, len(text) - 1024) for c in " \n\u2029>;")
            if cut > 0:
                text, rest = text[:cut + 1], text[cut + 1:]
        self.parts, self.size = ([rest], len(rest)) if rest else ([], 0)
        if not _TRIGGER.search(text):
            # No character of a marking: only what the next window may continue matters.
            self.tail = (self.tail + normalise(text[-256:]))[-self.TAIL:]
            return
        compact = self.tail + normalise(text)
        hit = match(compact)
        if hit:
            raise _Found(hit)
        self.tail = compact[-self.TAIL:]


def upload_rule(stream: BinaryIO, filename: str = "",
                limits: UploadLimits | None = None) -> str | None:
    """The marking rule broken anywhere in an uploaded file (or its name), or None. Read as a
    whole, by content whatever its name: text in any Chinese encoding (UTF-8/16, GB18030,
    Big5, HZ), XML, office documents (XLSX, DOCX, PPTX, ODF: every XML part, sheet titles,
    comments and headers included), ZIP archives with their members, at any depth. The
    stream is left at its start.

    Raises:
        feedsafety.Unsafe: A file that cannot be read to its end, so cannot be cleared: larger
            than the limit (``too_large``), an archive that is corrupt, encrypted, too deep or
            expands too far (``archive_*``), a sheet past its limits (``sheet_*``).
    """
    limits = limits or UploadLimits()
    start = stream.tell()
    try:
        stream.seek(0, io.SEEK_END)
        if stream.tell() - start > limits.max_bytes:
            raise feedsafety.Unsafe("too_large", limit=feedsafety.megabytes(limits.max_bytes))
        stream.seek(start)
        scanner = _Scanner()
        scanner.text(filename)
        scanner.end_unit()
        _scan(stream, scanner, limits, feedsafety.Expansion(limits.archive), 0)
        scanner.finish()
        return None
    except _Found as found:
        return found.rule
    finally:
        stream.seek(start)


_HEAD = 4096
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An office document with a password is an OLE2 file holding these streams.
_ENCRYPTED = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))


def _looks_like_xml(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe<", b"\xfe\xff\x00<")):
        return True
    return head.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"<")


def _scan(stream: BinaryIO, scanner: _Scanner, limits: UploadLimits,
          expansion: feedsafety.Expansion, depth: int) -> None:
    """A whole file, from a seekable stream at its start."""
    start = stream.tell()
    head = stream.read(_HEAD)
    stream.seek(start)
    if feedsafety.is_zip(head):
        _scan_archive(stream, scanner, limits, expansion, depth + 1)
    elif head.startswith(_OLE2):
        _scan_ole2(stream, scanner)
    elif _looks_like_xml(head):
        try:
            feedsafety.walk_xml(stream, None, scanner, allow_doctype=True)
        except (ExpatError, feedsafety.Unsafe) as error:
            if isinstance(error, feedsafety.Unsafe) and error.code != "xml_entities":
                raise
            # Not well-formed (HTML, VML) or declaring entities: read it as text.
            scanner.end_unit()
            stream.seek(start)
            _scan_text(stream, scanner)
    else:
        _scan_text(stream, scanner)


def _scan_archive(stream: BinaryIO, scanner: _Scanner, limits: UploadLimits,
                  expansion: feedsafety.Expansion, depth: int) -> None:
    archive = feedsafety.Archive(stream, expansion, depth)
    for info in archive.members:
        scanner.text(info.filename)  # a member's name is shown to whoever opens the archive
        scanner.end_unit()
        with archive.open(info) as member:
            head = member.read(_HEAD)
            if _looks_like_xml(head):
                try:
                    # Streamed: the sheet limits apply while reading, before any cell is kept.
                    feedsafety.walk_xml(feedsafety.Prefixed(head, member), limits.sheets,
                                        scanner, allow_doctype=True)
                    scanner.end_unit()
                    continue
                except (ExpatError, feedsafety.Unsafe) as error:
                    if isinstance(error, feedsafety.Unsafe) and error.code != "xml_entities":
                        raise
                    scanner.end_unit()
        with archive.open(info) as member, _spooled(member) as copy:
            _scan(copy, scanner, limits, expansion, depth)
        scanner.end_unit()


class _spooled:  # noqa: N801  (a context manager, used as a function)
    """A member copied to a seekable file (memory, then disk), for nested archives and for
    text read in more than one encoding."""

    def __init__(self, source: Any) -> None:
        self.copy = tempfile.SpooledTemporaryFile(max_size=8 * MB)  # noqa: SIM115
        shutil.copyfileobj(source, self.copy, 256 * 1024)
        self.copy.seek(0)

    def __enter__(self) -> BinaryIO:
        return self.copy  # type: ignore[return-value]

    def __exit__(self, *exc: object) -> None:
        self.copy.close()


def _scan_ole2(stream: BinaryIO, scanner: _Scanner) -> None:
    """Legacy Office files (XLS, DOC, PPT), and the container of password-protected ones
    (refused: they cannot be read). Their text is UTF-16 or the local code page."""
    start = stream.tell()
    overlap = b""
    while chunk := stream.read(1024 * 1024):
        window = overlap + chunk
        if any(marker in window for marker in _ENCRYPTED):
            raise feedsafety.Unsafe("encrypted")
        overlap = window[-64:]
    for encoding, offset in (("utf-16-le", 0), ("utf-16-le", 1), ("gb18030", 0),
                             ("cp950", 0)):
        stream.seek(start + offset)
        _decode(stream, scanner, encoding, "replace")


def _scan_text(stream: BinaryIO, scanner: _Scanner) -> None:
    """Text in whatever encoding: UTF-8 when it decodes as such to its end; otherwise both
    GB18030 and Big5 (either reads the other's bytes without an error, as nonsense, so one
    guess could miss a marking), and what charset-normalizer makes of it."""
    start = stream.tell()
    head = stream.read(64 * 1024)
    stream.seek(start)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _decode(stream, scanner, "utf-16", "replace")
        return
    encodings: list[str] = []
    if not _decode(stream, scanner, "utf-8-sig", "strict"):
        encodings += ["gb18030", "cp950"]
        guess = _guess(head)
        if guess:
            encodings.append(guess)
    if head.count(b"\x00") > len(head) // 8:  # UTF-16 without a byte-order mark
        encodings += ["utf-16-le", "utf-16-be"]
    if b"~{" in head:  # HZ, 7-bit GB2312
        encodings.append("hz")
    done = {"utf-8"}
    for encoding in encodings:
        name = _FAMILIES.get(codecs.lookup(encoding).name, codecs.lookup(encoding).name)
        if name not in done:
            done.add(name)
            stream.seek(start)
            _decode(stream, scanner, encoding, "replace")


# Encodings that read the characters of a marking alike: one pass for the family.
_FAMILIES = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "cp950", "big5hkscs": "cp950"}


def _guess(head: bytes) -> str | None:
    best = from_bytes(head).best()
    return best.encoding if best is not None else None


def _decode(stream: BinaryIO, scanner: _Scanner, encoding: str, errors: str) -> bool:
    """Feed the stream's text to the scanner; False when it is not in that encoding."""
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    try:
        while chunk := stream.read(1024 * 1024):
            scanner.text(decoder.decode(chunk))
        scanner.text(decoder.decode(b"", final=True))
        return True
    except UnicodeDecodeError:
        return False
    finally:
        scanner.end_unit()


def decode_text(head: bytes) -> str:
    """Text of an uploaded file: UTF-8 (with or without BOM), GB18030, else what
    charset-normalizer finds."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return head.decode(encoding)
        except UnicodeDecodeError:
            continue
    guess = _guess(head)
    return head.decode(guess or "latin-1", errors="replace")
