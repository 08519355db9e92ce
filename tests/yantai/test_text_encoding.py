"""Reading uploaded CSV text: UTF-8, UTF-16, GB18030 and Big5 told apart, or refused."""
from __future__ import annotations

import pytest

from ckanext.yantai import text_encoding

pytestmark = pytest.mark.pure


def test_encodings_are_told_apart_or_refused():
    simplified = "行政相对人名称,处罚决定日期\n烟台某某食品有限公司,2026-09-18\n"
    traditional = "許可機關,名稱\n煙台市,資料\n"
    for text, encoding in ((simplified, "gb18030"), (simplified, "utf-8"),
                           (simplified, "utf-16"), (simplified, "utf-8-sig"),
                           (traditional, "big5"), (traditional, "gb18030"),
                           ("姓名,电话\n王某,13900000000\n", "gb18030"), ("公司", "big5")):
        assert text_encoding.decode(text.encode(encoding)) == text, (text, encoding)
    for data, reason in ((b"a\x00b", "binary"), (b"a,b\n\x01\x02", "binary"),
                         ("café".encode("latin-1"), "unknown"),
                         ("名称".encode("gb18030"), "ambiguous")):
        with pytest.raises(text_encoding.Undecodable) as error:
            text_encoding.decode(data)
        assert error.value.reason == reason, data
