"""The text of an uploaded CSV file, in the encodings Chinese offices save: UTF-8 (with or without
a byte-order mark), UTF-16 with its mark, GB18030 (GBK, GB2312) and Big5.

GB18030 decodes almost any byte pairs, Big5 files included (into mojibake, without an error), so
a file that both read is judged: private-use characters (no real text has them), the share of
common characters, then charset-normalizer; one that cannot be told apart is refused rather than
guessed. Binary data (NUL and other control characters) is refused too.
Pure: bytes in, text or ``Undecodable`` out.
"""
from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))
LEGACY = ("gb18030", "big5")
COMMON_LEADS = {"gb18030": (0xB0, 0xF7), "big5": (0xA4, 0xC6)}
CLEAR_MARGIN = 0.3
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
# C0 controls but tab, line feed, form feed and carriage return; DEL. A trailing Ctrl-Z (an old
# DOS end of file) is dropped first.
BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class Undecodable(ValueError):
    """``reason``: ``binary`` (not text), ``unknown`` (none of the encodings reads it) or
    ``ambiguous`` (several read it and nothing tells which is meant)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode(data: bytes) -> str:
    """The file's text.

    Raises:
        Undecodable: Binary data, an encoding other than those above, or one that cannot be
            told (a short file that reads as GB18030 and as Big5 alike).
    """
    text = _decode(data)
    if BINARY.search(text.rstrip("\x1a")):
        raise Undecodable("binary")
    return text.rstrip("\x1a")


def _decode(data: bytes) -> str:
    try:
        return data.decode(encoding_of(data))
    except UnicodeDecodeError:  # a mark, then bytes its encoding cannot read
        raise Undecodable("unknown") from None


def encoding_of(sample: bytes, complete: bool = True) -> str:
    """The encoding of a file that starts with ``sample`` (the whole file when ``complete``;
    else the sample may end inside a character), as a Python codec name.

    Raises:
        Undecodable: As ``decode``, for the sample.
    """
    for bom, encoding in BOMS:
        if sample.startswith(bom):
            return encoding
    if b"\x00" in sample:  # UTF-16 without its mark, or binary
        raise Undecodable("binary")
    if _reads(sample, "utf-8", complete) is not None:
        return "utf-8"
    readable = {}
    for encoding in LEGACY:
        text = _reads(sample, encoding, complete)
        if text is not None and not PRIVATE_USE.search(text):  # what GB18030 makes of Big5
            readable[encoding] = text
    if not readable:
        raise Undecodable("unknown")
    return _judge(sample, readable)


def _reads(sample: bytes, encoding: str, complete: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=complete)
    except UnicodeDecodeError:
        return None


def _judge(data: bytes, readable: dict[str, str]) -> str:
    """The encoding meant, of those that read the file: the one whose text is far more made of
    its standard's common characters; else the one charset-normalizer finds clearly best."""
    if len(readable) == 1:
        return next(iter(readable))
    scores = sorted(((_commonness(text, encoding), encoding)
                     for encoding, text in readable.items()), reverse=True)
    if scores[0][0] - scores[1][0] >= CLEAR_MARGIN:
        return scores[0][1]
    matches = [m for m in from_bytes(data, cp_isolation=list(readable))
               if _normal(m.encoding) in readable]
    ranked = sorted(matches, key=lambda m: (m.chaos, -m.coherence))
    if not ranked or (len(ranked) > 1 and (ranked[0].chaos, ranked[0].coherence)
                      == (ranked[1].chaos, ranked[1].coherence)):
        raise Undecodable("ambiguous")
    return _normal(ranked[0].encoding)


def _commonness(text: str, encoding: str) -> float:
    """The share of the text's CJK characters that are common ones: GB2312's hanzi for
    GB18030, Big5's frequent characters (lead bytes A4-C6) for Big5."""
    cjk = [c for c in text if c >= "\u2e80"]
    if not cjk:
        return 1.0
    common = 0
    for char in cjk:
        try:
            code = char.encode("gb2312" if encoding == "gb18030" else "big5")
        except UnicodeEncodeError:
            continue
        low, high = COMMON_LEADS[encoding]
        common += len(code) == 2 and low <= code[0] <= high
    return common / len(cjk)


def _normal(encoding: str) -> str:
    return codecs.lookup(encoding).name.replace("_", "-") if encoding else ""
