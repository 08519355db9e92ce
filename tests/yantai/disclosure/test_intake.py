"""The 双公示 rule engine (pure): fields, headers, deadlines, timeliness, publication, masking."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ckanext.yantai.disclosure import intake, privacy, standard
from ckanext.yantai.workdays import SHANGHAI, SHIPPED_TABLE, Calendar
from tests.yantai.disclosure_records import (
    ADULT_ID,
    AUTHORITY,
    FIRM,
    MINOR_ID,
    SOLE,
    license,
    penalty,
    person_penalty,
)

pytestmark = pytest.mark.pure

CALENDAR = Calendar.from_files(SHIPPED_TABLE)
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


def check(record, record_type="penalty", now=NOW, published_at=None, calendar=CALENDAR):
    return intake.check(record_type, record, now=now, calendar=calendar,
                        published_at=published_at)


def codes_of(result):
    return {(f.field, f.code) for f in result.findings}


def at(text):
    return dt.datetime.fromisoformat(text)


class TestValidRecords:
    @pytest.mark.parametrize("record_type, record", [("penalty", penalty()),
                                                     ("license", license()),
                                                     ("penalty", person_penalty())])
    def test_a_complete_record_is_valid(self, record_type, record):
        result = check(record, record_type, published_at=at("2026-09-21T09:00:00+08:00"))
        assert result.findings == ()
        assert result.valid
        assert result.publish == "allowed"
        assert result.timeliness == "on_time"

    def test_as_dict_is_the_api_shape(self):
        result = check(penalty(**{"行政相对人代码_1": FIRM[:-1] + "0"}),
                       published_at=at("2026-09-30T10:00:00+08:00"))
        body = result.as_dict()
        assert body["valid"] is False
        assert body["errors"] == [{"field": "行政相对人代码_1", "code": "uscc_checksum"}]
        assert body["deadline"] == "2026-09-29"
        assert body["timeliness"] == "late"
        assert body["working_days_late"] == 1
        assert body["publish"] == "allowed"


class TestHeaders:
    @pytest.mark.parametrize("header", ["行政相对人代码_1(统一社会信用代码)",
                                        "行政相对人代码_1（统一社会信用代码）",
                                        "行政相对人代码_1", "统一社会信用代码",
                                        " 行政相对人代码＿1 （统一社会信用代码） "])
    def test_credit_code_headers(self, header):
        assert standard.canonical_field("penalty", header) == "行政相对人代码_1"

    @pytest.mark.parametrize("header, name", [
        ("罚款金额（万元）", "罚款金额(万元)"), ("罚款金额", "罚款金额(万元)"),
        ("处罚事由", "违法事实"), ("处罚结果", "处罚内容"), ("公示期限", "公示截止期"),
        ("法定代表人姓名", "法定代表人"), ("居民身份证号", "证件号码"),
        ("没收违法所得金额（万元）", "没收违法所得、没收非法财物的金额(万元)"),
    ])
    def test_penalty_names_old_and_new(self, header, name):
        assert standard.canonical_field("penalty", header) == name

    @pytest.mark.parametrize("header, name", [("项目名称", "行政许可决定文书名称"),
                                              ("审批类别", "许可类别"),
                                              ("行政许可决定书文号", "行政许可决定文书号"),
                                              ("许可截止期", "有效期至")])
    def test_2016_license_names(self, header, name):
        assert standard.canonical_field("license", header) == name

    def test_penalty_fields_are_not_license_fields(self):
        assert standard.canonical_field("license", "罚款金额(万元)") is None
        assert standard.canonical_field("penalty", "联系电话") is None

    def test_a_2016_era_penalty_record_checks_like_a_current_one(self):
        old = {"行政处罚决定书文号": "烟市监罚〔2026〕101号", "处罚名称": "违反《食品安全法》",
               "处罚类别1": "警告", "处罚类别2": "罚款", "处罚事由": "经营超过保质期的食品",
               "处罚依据": "《食品安全法》第一百二十四条", "行政相对人名称": "烟台某某食品有限公司",
               "行政相对人类别": "法人及非法人组织", "统一社会信用代码": FIRM,
               "法定代表人姓名": "王某", "处罚结果": "警告并罚款5000元", "罚款金额": "0.5",
               "处罚决定日期": "2026/9/18", "处罚机关": "烟台市市场监督管理局",
               "处罚机关统一社会信用代码": AUTHORITY, "数据来源单位": "烟台市市场监督管理局",
               "数据来源单位统一社会信用代码": AUTHORITY, "地方编码": "370600",
               "数据更新时间戳": "2026-09-19 10:00:00"}
        normalised = intake.normalise("penalty", old)
        assert normalised.fields["处罚类别"] == "警告;罚款"
        assert normalised.fields["行政相对人代码_1"] == FIRM
        assert normalised.extra == {"地方编码": "370600", "数据更新时间戳": "2026-09-19 10:00:00"}
        assert normalised.unknown == ()  # known old columns, not worth a warning
        assert check(old, published_at=at("2026-09-21T09:00:00+08:00")).valid

    def test_unknown_columns_are_kept_and_warned_about(self):
        normalised = intake.normalise("penalty", penalty(联系电话="13812345678"))
        assert normalised.extra == {"联系电话": "13812345678"}
        assert check(penalty(联系电话="13812345678")).warnings == ("联系电话",)

    def test_two_columns_for_one_field_must_agree(self):
        same = penalty(统一社会信用代码=FIRM)
        assert check(same).valid
        other = penalty(统一社会信用代码=SOLE)
        assert ("行政相对人代码_1", "duplicate_field") in codes_of(check(other))

    def test_unknown_record_type(self):
        with pytest.raises(ValueError):
            intake.normalise("permit", {})


class TestRequiredFields:
    @pytest.mark.parametrize("name", ["行政处罚决定书文号", "违法事实", "处罚依据", "处罚决定日期",
                                      "处罚机关统一社会信用代码", "数据来源单位"])
    def test_penalty_required(self, name):
        assert (name, "required") in codes_of(check(penalty(**{name: None})))

    def test_blank_counts_as_missing(self):
        assert ("违法事实", "required") in codes_of(check(penalty(违法事实="   ")))

    def test_license_number_may_stand_in_for_the_document_number(self):
        assert check(license(行政许可决定文书号=None), "license").valid
        both = check(license(行政许可决定文书号=None, 许可编号=None), "license")
        assert ("行政许可决定文书号", "license_number_required") in codes_of(both)

    def test_organisations_and_sole_traders_need_the_credit_code(self):
        for category in ("法人及非法人组织", "个体工商户"):
            result = check(penalty(行政相对人类别=category, 行政相对人代码_1=None))
            assert ("行政相对人代码_1", "required_when") in codes_of(result)
        assert check(penalty(行政相对人类别="个体工商户", 行政相对人代码_1=SOLE)).valid

    def test_a_person_needs_an_identity_document(self):
        result = check(person_penalty(证件类型=None, 证件号码=None))
        assert {("证件类型", "required_when"), ("证件号码", "required_when")} <= codes_of(result)

    def test_a_person_must_not_carry_an_organisation_code(self):
        result = check(person_penalty(行政相对人代码_1=FIRM))
        assert codes_of(result) == {("行政相对人代码_1", "person_with_org_code")}

    def test_fines_need_amounts(self):
        result = check(penalty(**{"罚款金额(万元)": None}))
        assert ("罚款金额(万元)", "required_when") in codes_of(result)
        assert ("罚款金额(万元)", "amount_zero") in codes_of(
            check(penalty(**{"罚款金额(万元)": "0"})))

    def test_confiscation_and_revocation_need_their_details(self):
        result = check(penalty(处罚类别="没收违法所得;吊销许可证件"))
        assert {("没收违法所得、没收非法财物的金额(万元)", "required_when"),
                ("暂扣或吊销证照名称及编号", "required_when")} <= codes_of(result)


class TestCodes:
    @pytest.mark.parametrize("typed", [FIRM.lower(), "９１３７０６０２ＭＡ３Ｃ７ＸＬＫ９Ｘ",
                                       f"{FIRM[:6]} {FIRM[6:12]}-{FIRM[12:]}"])
    def test_credit_codes_are_normalised_before_checking(self, typed):
        assert check(penalty(行政相对人代码_1=typed)).valid

    @pytest.mark.parametrize("code, error", [
        (FIRM[:-1] + ("0" if FIRM[-1] != "0" else "1"), "uscc_checksum"),
        (FIRM[:17], "uscc_length"),
        ("91370602MA3C7XLKIX", "uscc_characters"),
        # check character recomputed over a wrong embedded organisation code
        ("91370602MA3C7XLK8" + __import__("stdnum.cn.uscc").cn.uscc.calc_check_digit(
            "91370602MA3C7XLK8"), "uscc_org_code"),
    ])
    def test_bad_credit_codes(self, code, error):
        assert ("行政相对人代码_1", error) in codes_of(check(penalty(行政相对人代码_1=code)))

    def test_authority_and_source_codes_are_checked_too(self):
        result = check(penalty(处罚机关统一社会信用代码="11370600004340782X"))
        assert ("处罚机关统一社会信用代码", "uscc_checksum") in codes_of(result)

    def test_identity_numbers(self):
        assert check(person_penalty(证件号码=ADULT_ID.lower())).valid
        wrong = ADULT_ID[:-1] + ("0" if ADULT_ID[-1] != "0" else "1")
        assert ("证件号码", "ric_checksum") in codes_of(check(person_penalty(证件号码=wrong)))
        bad_date = "370602198513321234"
        assert ("证件号码", "ric_format") in codes_of(check(person_penalty(证件号码=bad_date)))
        # a passport number is not checked as a resident identity number
        assert check(person_penalty(证件类型="护照", 证件号码="E12345678")).valid

    def test_vocabularies(self):
        assert ("行政相对人类别", "not_in_vocabulary") in codes_of(
            check(penalty(行政相对人类别="企业")))
        assert ("处罚类别", "not_in_vocabulary") in codes_of(check(penalty(处罚类别="罚款;记过")))
        assert ("许可类别", "not_in_vocabulary") in codes_of(
            check(license(许可类别="备案"), "license"))
        assert ("当前状态", "not_in_vocabulary") in codes_of(check(penalty(当前状态="5")))

    def test_other_must_name_the_category(self):
        assert ("许可类别", "other_unnamed") in codes_of(check(license(许可类别="其他"), "license"))
        assert check(license(许可类别="其他-备案"), "license").valid
        assert check(license(许可类别="其他（备案）"), "license").valid


class TestAmountsAndDates:
    @pytest.mark.parametrize("amount", ["0.5", "0.50", "０.５", "0.5万元", "1,000"])
    def test_amounts(self, amount):
        assert check(penalty(**{"罚款金额(万元)": amount})).valid

    @pytest.mark.parametrize("amount, error", [("5000元", "amount_unit"), ("五千", "amount_format"),
                                               ("-1", "amount_negative")])
    def test_bad_amounts(self, amount, error):
        assert ("罚款金额(万元)", error) in codes_of(check(penalty(**{"罚款金额(万元)": amount})))

    @pytest.mark.parametrize("text", ["2026-09-18", "2026/9/18", "2026.09.18", "2026年9月18日",
                                      "20260918", "2026-09-18 15:00:00",
                                      "2026-09-18T07:00:00+00:00"])
    def test_date_forms(self, text):
        assert intake.parse_date(text) == dt.date(2026, 9, 18)

    def test_a_utc_timestamp_is_taken_as_its_chinese_date(self):
        assert intake.parse_date("2026-09-17T16:30:00Z") == dt.date(2026, 9, 18)

    @pytest.mark.parametrize("text", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
    @pytest.mark.parametrize("field", ["处罚决定日期", "处罚有效期", "公示截止期"])
    def test_a_moment_past_the_ends_of_time_in_beijing_is_a_bad_date(self, text, field):
        # Its Beijing date is in year 10000 or 0: an OverflowError (a 500) before.
        with pytest.raises(intake.BadValue):
            intake.parse_date(text)
        assert (field, "date_format") in codes_of(check(penalty(**{field: text})))

    def test_unparseable_and_impossible_dates(self):
        assert ("处罚决定日期", "date_format") in codes_of(
            check(penalty(处罚决定日期="2026-02-30")))
        assert ("处罚决定日期", "date_format") in codes_of(check(penalty(处罚决定日期="上周")))

    def test_validity_start_not_after_end(self):
        result = check(license(有效期自="2026-09-18", 有效期至="2026-09-01"), "license")
        assert ("有效期至", "date_order") in codes_of(result)
        assert check(license(有效期至="长期"), "license").valid

    def test_not_published_before_the_decision(self):
        result = check(penalty(), published_at=at("2026-09-17T10:00:00+08:00"))
        assert ("处罚决定日期", "published_before_decision") in codes_of(result)

    def test_decision_in_the_future(self):
        result = check(penalty(处罚决定日期="2026-12-01"))
        assert codes_of(result) == {("处罚决定日期", "decision_in_future")}


class TestDeadlines:
    """The 7th working day after the decision (Asia/Shanghai dates, 调休 days worked)."""

    @pytest.mark.parametrize("decided, deadline", [
        ("2026-09-18", "2026-09-29"),  # Sunday 09-20 is worked, Mid-autumn 09-25 is off
        ("2026-09-25", "2026-10-12"),  # National Day; Saturday 10-10 is worked
        ("2025-12-24", "2026-01-05"),  # across the year: New Year off, Sunday 2026-01-04 worked
        ("2026-02-12", "2026-02-28"),  # Spring Festival; Saturdays 02-14 and 02-28 worked
        ("2026-11-20", "2026-12-01"),  # plain weeks
    ])
    def test_deadline(self, decided, deadline):
        result = check(penalty(处罚决定日期=decided))
        assert result.deadline == dt.date.fromisoformat(deadline)

    def test_on_time_on_the_deadline_and_late_the_next_working_day(self):
        on_time = check(penalty(), published_at=at("2026-09-29T23:59:00+08:00"))
        assert on_time.timeliness == "on_time"
        late = check(penalty(), published_at=at("2026-09-30T00:01:00+08:00"))
        assert (late.timeliness, late.working_days_late) == ("late", 1)

    def test_publication_time_is_taken_in_shanghai(self):
        # 16:30 UTC on the deadline is 00:30 the next day in Yantai: one working day late.
        late = check(penalty(), published_at=at("2026-09-29T16:30:00+00:00"))
        assert (late.timeliness, late.working_days_late) == ("late", 1)

    def test_working_days_late_skip_holidays(self):
        # Deadline 09-29; published 10-09 (Friday after National Day): 09-30 and 10-08, 10-09.
        late = check(penalty(), published_at=at("2026-10-09T10:00:00+08:00"))
        assert late.working_days_late == 3

    def test_pending_and_overdue_while_unpublished(self):
        before = dt.datetime(2026, 9, 29, 20, 0, tzinfo=SHANGHAI)
        assert check(penalty(), now=before).timeliness == "pending"
        after = dt.datetime(2026, 9, 30, 8, 0, tzinfo=SHANGHAI)
        assert check(penalty(), now=after).timeliness == "overdue"

    def test_missing_year_is_never_guessed(self):
        now = dt.datetime(2027, 1, 20, 10, 0, tzinfo=SHANGHAI)
        result = check(penalty(处罚决定日期="2026-12-23"), now=now)
        assert (result.timeliness, result.deadline, result.missing_year) == (
            "calendar_missing", None, 2027)
        # the last decision day whose count stays in 2026
        assert check(penalty(处罚决定日期="2026-12-22"), now=now).deadline == dt.date(2026, 12, 31)

    def test_late_count_into_a_missing_year(self):
        result = check(penalty(), published_at=at("2027-01-04T10:00:00+08:00"),
                       now=dt.datetime(2027, 1, 5, tzinfo=SHANGHAI))
        assert result.timeliness == "calendar_missing"

    def test_naive_times_are_refused(self):
        with pytest.raises(ValueError):
            check(penalty(), published_at=dt.datetime(2026, 9, 20, 10, 0))


class TestPublication:
    def test_revoked(self):
        assert check(penalty(当前状态="撤销")).publish == "revoked"
        assert check(penalty(当前状态="1")).publish == "revoked"

    def test_minors_are_not_published(self):
        assert check(person_penalty(证件号码=MINOR_ID)).publish == "not_for_publication"
        assert check(person_penalty(备注="当事人系未成年人")).publish == "not_for_publication"

    def test_warning_only_market_regulation_penalties_are_not_published(self):
        warning = penalty(处罚类别="警告", **{"罚款金额(万元)": None})
        assert check(warning).publish == "not_for_publication"
        other = penalty(处罚类别="警告", 处罚机关="烟台市生态环境局",
                        **{"罚款金额(万元)": None, "处罚决定日期": "2026-03-20"})
        assert check(other).publish == "allowed"

    def test_minor_dishonesty_from_april_2026_is_not_published(self):
        decided = penalty(处罚类别="通报批评", 处罚机关="烟台市生态环境局",
                          **{"罚款金额(万元)": None, "处罚决定日期": "2026-04-01"})
        assert check(decided).publish == "not_for_publication"

    def test_general_penalties_expire_after_one_year_by_the_rules_of_their_date(self):
        record = penalty(处罚决定日期="2025-11-26")  # 527号: 一般, up to 1 year
        result = check(record)
        assert (result.publish, result.publicity_end) == ("expired", dt.date(2026, 11, 26))
        assert check(penalty(处罚决定日期="2025-11-27")).publish == "allowed"

    def test_severe_penalties_stay_up_to_three_years(self):
        record = penalty(处罚类别="吊销许可证件", 暂扣或吊销证照名称及编号="食品经营许可证JY1",
                         处罚决定日期="2024-01-10", **{"罚款金额(万元)": None})
        assert check(record).publish == "allowed"
        later = dt.datetime(2027, 1, 11, tzinfo=SHANGHAI)
        assert check(record, now=later).publish == "expired"

    def test_a_records_own_end_of_publicity(self):
        result = check(penalty(处罚决定日期="2026-03-02", 公示截止期="2026-09-02"))
        assert (result.publish, result.valid) == ("expired", True)

    def test_a_records_publicity_must_fit_its_rule(self):
        short = check(penalty(处罚决定日期="2026-06-01", 公示截止期="2026-07-01"))
        assert ("公示截止期", "publicity_too_short") in codes_of(short)
        long = check(penalty(处罚决定日期="2026-06-01", 公示截止期="2028-06-01"))
        assert ("公示截止期", "publicity_too_long") in codes_of(long)

    def test_licenses_do_not_expire_by_publicity(self):
        assert check(license(许可决定日期="2020-01-06", 有效期自="2020-01-06"),
                     "license").publish == "allowed"


class TestMasking:
    def test_identity_numbers_are_masked(self):
        public = privacy.mask("penalty",
                              intake.normalise("penalty", person_penalty()).fields)
        assert public["证件号码"] == ADULT_ID[:6] + "********" + ADULT_ID[-4:]
        assert ADULT_ID not in str(public)

    def test_legal_representative_ids_are_masked_too(self):
        public = privacy.mask("penalty", penalty())
        assert ADULT_ID not in str(public) and public["行政相对人代码_1"] == FIRM

    def test_personal_data_inside_free_text(self):
        fact = (f"当事人张某某（身份证号{ADULT_ID}，电话13812345678，"
                "住址：烟台市芝罘区幸福路12号3单元）"
                "通过银行卡6222021234567890123收款")
        public = privacy.mask("penalty", person_penalty(违法事实=fact))
        text = public["违法事实"]
        for secret in (ADULT_ID, "13812345678", "幸福路12号", "6222021234567890123"):
            assert secret not in text
        assert "138****5678" in text and "住址：***" in text

    def test_log_lines_lose_identity_numbers_and_mobiles_only(self):
        line = f"data: {{'证件号码': '{ADULT_ID}', 'tel': '13812345678'}} at 1764230400123"
        masked = privacy.mask_identifiers(line)
        assert ADULT_ID not in masked and "13812345678" not in masked
        assert "1764230400123" in masked  # a timestamp stays readable
        assert privacy.mask_identifiers(AUTHORITY) == AUTHORITY  # credit codes are public

    def test_the_public_form_has_only_the_standards_fields(self):
        public = privacy.mask("penalty", penalty(联系电话="13812345678"))
        assert "联系电话" not in public and set(public) == set(standard.FIELDS["penalty"])

    def test_departments_names_survive(self):
        public = privacy.mask("penalty", penalty(违法事实="烟台市住房和城乡建设局移送的案件"))
        assert public["违法事实"] == "烟台市住房和城乡建设局移送的案件"


class TestRecordKey:
    def test_same_document_and_party_same_key(self):
        a = intake.normalise("penalty", penalty()).fields
        b = intake.normalise("penalty", penalty(违法事实="更正后的违法事实")).fields
        assert intake.record_key("penalty", a) == intake.record_key("penalty", b)

    def test_another_party_of_one_decision_is_another_record(self):
        a = intake.normalise("penalty", penalty()).fields
        b = intake.normalise("penalty", penalty(行政相对人代码_1=SOLE)).fields
        assert intake.record_key("penalty", a) != intake.record_key("penalty", b)


def test_a_reloaded_calendar_gives_its_own_deadlines_not_remembered_ones():
    """The portal reloads its calendar when the file changes; deadlines remembered for the old
    calendar must not come back for the new one, even where the new object takes the old one's
    place in memory."""
    year = CALENDAR.schedules[2026]
    extra_holiday = dataclasses.replace(year, holidays={**year.holidays,
                                                        dt.date(2026, 9, 28): "测试假日"})
    for _ in range(5):
        changed = Calendar(schedules={**CALENDAR.schedules, 2026: extra_holiday})
        assert check(penalty(), calendar=changed).deadline == dt.date(2026, 9, 30)
        del changed
        same = Calendar(schedules=dict(CALENDAR.schedules))
        assert check(penalty(), calendar=same).deadline == dt.date(2026, 9, 29)
        del same
