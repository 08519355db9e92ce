"""Pure rules for codes and names (no services needed)."""
from __future__ import annotations

import pytest

from ckanext.yantai import codes

pytestmark = pytest.mark.pure

VALID = "91350100M000100Y43"  # GB 32100-2015 example code


class TestUscc:
    def test_valid_code(self):
        assert codes.uscc_error(VALID) is None

    @pytest.mark.parametrize("typed", ["９１３５０１００Ｍ０００１００Ｙ４３", "91350100m000100y43",
                                       "9135 0100-M000 100Y43"])
    def test_full_width_case_spaces_and_hyphens_are_normalised(self, typed):
        assert codes.uscc_error(typed) is None
        assert codes.normalise_uscc(typed) == VALID

    def test_wrong_check_character(self):
        assert codes.uscc_error(VALID[:-1] + "4") == "uscc_checksum"

    def test_wrong_length(self):
        assert codes.uscc_error(VALID[:-1]) == "uscc_length"

    def test_forbidden_letters(self):
        # I, O, Z, S and V are not in the code's character set.
        assert codes.uscc_error("91350100I000100Y43") == "uscc_characters"


    def test_agrees_with_python_stdnum(self):
        # codes.uscc_error writes stdnum's check out for speed; they must agree wherever stdnum
        # applies (it wants digits in positions 1-8, GB 32100 also allows letters in 1-2).
        import random

        from stdnum.cn import uscc

        rng = random.Random(32100)
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        for _ in range(3000):
            body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(
                rng.choice(alphabet) for _ in range(9))
            for code in (body + uscc.calc_check_digit(body + "0"), body + rng.choice(alphabet)):
                assert (codes.uscc_error(code) is None) == uscc.is_valid(code), code

    def test_letters_allowed_for_the_registration_authority_only(self):
        from stdnum.cn import uscc

        body = "Y1370600MA3C7XLK9"
        assert codes.uscc_error(body + uscc.calc_check_digit(body + "0")) is None
        body = "9137A600MA3C7XLK9"
        assert codes.uscc_error(body + uscc.calc_check_digit(body + "0")) == "uscc_characters"


class TestResourceCodes:
    def test_category_parts(self):
        assert codes.parse_category("2-02-003") == ("2", "02", "003", "")
        parsed = codes.parse_category("３-15-001-0102")
        assert parsed is not None and parsed.code == "3-15-001-0102"

    @pytest.mark.parametrize("bad", ["4-02-003", "2-2-003", "2-02-03", "2/02/003", ""])
    def test_bad_categories(self, bad):
        assert codes.parse_category(bad) is None

    def test_code_is_category_slash_sequence(self):
        assert codes.resource_code_error("2-02-003/0001", "2-02-003") is None
        assert codes.resource_code_error("2-02-003-01/00000001", None) is None

    def test_code_must_match_its_category(self):
        assert codes.resource_code_error("2-02-004/0001", "2-02-003") == "resource_code_category"

    @pytest.mark.parametrize("bad", ["2-02-003", "2-02-003/01", "2-02-003/123456789", "x/0001"])
    def test_malformed_codes(self, bad):
        assert codes.resource_code_error(bad, None) == "resource_code_format"


class TestOfficePhone:
    @pytest.mark.parametrize("phone", ["0535-6788888", "(0535)6788888", "６７８８８８８", "12345",
                                       "400-123-4567", "0535-6788888-801"])
    def test_office_numbers(self, phone):
        assert codes.office_phone_error(phone) is None

    @pytest.mark.parametrize("phone", ["13800138000", "+86 138 0013 8000", "１３９１２３４５６７８",
                                       "13812345678-1", "008613812345678", "0535-13812345678"])
    def test_mobile_numbers_are_refused(self, phone):
        assert codes.office_phone_error(phone) == "phone_mobile"

    def test_not_a_number(self):
        assert codes.office_phone_error("办公室") == "phone_format"


class TestPinyinSlug:
    def test_all_chinese_title(self):
        assert codes.pinyin_slug("烟台市公交线路站点信息") == \
            "yan-tai-shi-gong-jiao-xian-lu-zhan-dian-xin-xi"

    def test_mixed_title_keeps_latin_and_digits(self):
        assert codes.pinyin_slug("ＧＤＰ季度统计２０２４") == "gdp-ji-du-tong-ji-2024"

    def test_polyphones_read_in_context(self):
        assert codes.pinyin_slug("银行网点") == "yin-hang-wang-dian"
        assert codes.pinyin_slug("长岛综合试验区") == "chang-dao-zong-he-shi-yan-qu"

    def test_long_titles_are_cut_at_a_syllable(self):
        slug = codes.pinyin_slug("烟台市" * 20, max_length=20)
        assert slug == "yan-tai-shi-yan-tai"
        assert len(slug) <= 20


def test_pinyin_search_terms_pair_adjacent_characters():
    assert codes.pinyin_search_terms("公交线路") == ["gongjiao", "gj", "jiaoxian", "jx",
                                                     "xianlu", "xl"]
    assert codes.pinyin_search_terms("GDP 2024") == []
