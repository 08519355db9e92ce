"""Personal data in 双公示 records: masked on a normalised view of every field, kept out of the
logs of the portal and of PostgreSQL, and records whose shape the database cannot take refused
before they reach it (issue 13, items 6 and 7)."""
from __future__ import annotations

import io
import json
import logging
import pathlib
import re
import unicodedata
from typing import cast

import ckan.model as model
import ckan.plugins.toolkit as tk
import pytest
import sqlalchemy as sa
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from sqlalchemy import exc as sa_exc

from ckanext.yantai import log_privacy
from ckanext.yantai.disclosure import intake, privacy, standard
from ckanext.yantai.harvest import runner
from ckanext.yantai.model import DisclosureRecord
from tests import factories
from tests.yantai import disclosure_records as samples
from tests.yantai.disclosure.test_submission import department  # noqa: F401 (fixture)
from tests.yantai.disclosure_records import (
    ADULT_ID,
    AUTHORITY,
    FIRM,
    license,
    penalty,
    person_penalty,
)
from tests.yantai.harvest.test_harvest_disclosure import add_source, world  # noqa: F401 (fixture)
from tests.yantai.harvest.test_harvest_release import errors_of

PHONE = "13987654321"
MASKED_PHONE = "139****4321"
MASKED_ID = ADULT_ID[:6] + "********" + ADULT_ID[-4:]
OLD_ID = "370602850312123"  # a 15-digit number of the same person (no check character)
CARD = "6222021234567890123"
LANDLINE = "6612345"


def spaced(value: str, *cuts: int, sep: str = " ") -> str:
    parts, start = [], 0
    for cut in (*cuts, len(value)):
        parts.append(value[start:cut])
        start = cut
    return sep.join(parts)


def full_width(value: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in value)


ID_FORMS = {
    "plain": ADULT_ID,
    "spaces": spaced(ADULT_ID, 6, 14),
    "dashes": spaced(ADULT_ID, 6, 14, sep="-"),
    "dots": spaced(ADULT_ID, 6, 14, sep="."),
    "ideographic spaces": spaced(ADULT_ID, 6, 14, sep="\u3000"),
    "full-width": full_width(ADULT_ID),
    "full-width dashes": spaced(full_width(ADULT_ID), 6, 14, sep="－"),
    "zero-width": "\u200b".join(ADULT_ID),
    "word joiner and soft hyphen": spaced(ADULT_ID, 3, 9, 15, sep="\u2060\u00ad"),
    "en dashes": spaced(ADULT_ID, 6, 14, sep=" – "),
    "lower-case x": ADULT_ID.lower(),
}
PHONE_FORMS = {
    "plain": PHONE,
    "dashes": "139-8765-4321",
    "spaces": "139 8765 4321",
    "country code": "+8613987654321",
    "country code spaced": "+86 139 8765 4321",
    "00 prefix": "0086 13987654321",
    "86 glued": "8613987654321",
    "brackets": "(+86)13987654321",
    "full-width brackets": "（＋８６）１３９－８７６５－４３２１",
    "zero-width": "139\u200b8765\u200c4321",
    "dots": "139.8765.4321",
}


def digits_view(text: str) -> str:
    """What a reader can make of the text: NFKC, no format characters, no separators."""
    text = "".join(c for c in unicodedata.normalize("NFKC", text)
                   if unicodedata.category(c) != "Cf")
    return re.sub(r"[\s\-.\u2010-\u2015\u2212()+]", "", text).upper()


def leaks(text: str, *secrets: str) -> list[str]:
    view = digits_view(text)
    return [s for s in secrets if s.upper() in view]


# -- the rules (pure) -----------------------------------------------------------------------------

@pytest.mark.pure
class TestMaskedForms:
    @pytest.mark.parametrize("form", ID_FORMS.values(), ids=ID_FORMS.keys())
    def test_identity_numbers_in_any_form(self, form):
        text = privacy.mask_text(f"当事人（身份证号{form}）销售过期食品")
        assert not leaks(text, ADULT_ID, ADULT_ID[6:14]), text
        assert MASKED_ID in text.upper() and text.endswith("）销售过期食品")

    @pytest.mark.parametrize("form", [OLD_ID, spaced(OLD_ID, 6, 12), full_width(OLD_ID)])
    def test_old_15_digit_numbers(self, form):
        text = privacy.mask_text(f"身份证号{form}，")
        assert not leaks(text, OLD_ID, OLD_ID[6:12]) and OLD_ID[:6] + "******" + OLD_ID[-3:] in text
        assert privacy.mask_id(OLD_ID) == OLD_ID[:6] + "******" + OLD_ID[-3:]

    @pytest.mark.parametrize("form", PHONE_FORMS.values(), ids=PHONE_FORMS.keys())
    def test_mobiles_in_any_form(self, form):
        text = privacy.mask_text(f"联系电话{form}，已送达")
        assert not leaks(text, PHONE, "98765"), text
        assert MASKED_PHONE in text
        assert text.endswith("，已送达")

    @pytest.mark.parametrize("form", ["0535-6612345", "(0535)6612345", "0535 661 2345",
                                      "０５３５－６６１２３４５"])
    def test_a_persons_landline(self, form):
        text = privacy.mask_text(f"家庭电话{form}。")
        assert not leaks(text, LANDLINE) and "0535" in text and text.endswith("。")

    @pytest.mark.parametrize("form", [CARD, "6222 0212 3456 7890 123", "6222-0212-3456-7890-123"])
    def test_bank_cards(self, form):
        text = privacy.mask_text(f"通过银行卡{form}收款")
        assert not leaks(text, CARD[:12]) and text.endswith("0123收款")

    @pytest.mark.parametrize("address", [
        "烟台市芝罘区幸福路12号3单元501室",
        "山东省烟台市莱山区解甲庄街道西解甲庄村3组",
        "芝罘区只楚路5号2号楼",
        "牟平区王格庄镇某某村",
    ])
    def test_a_persons_address_without_the_word_住址(self, address):
        record = person_penalty(违法事实=f"当事人张某某，{address}，于2026年3月在家中销售过期食品")
        fact = privacy.mask("penalty", record)["违法事实"]
        detail = re.sub(r"^.*?(?:区|县|镇)", "", address)
        assert detail not in fact, fact
        assert fact.startswith("当事人张某某，")
        assert fact.endswith("，于2026年3月在家中销售过期食品")

    def test_an_address_after_住址_does_not_swallow_the_sentence(self):
        fact = ("当事人张某某（住址：烟台市芝罘区幸福路12号3单元）通过银行卡收款，"
                "家住莱山区观海路8号的李某某作证")
        text = privacy.mask("penalty", person_penalty(违法事实=fact))["违法事实"]
        assert text == "当事人张某某（住址：***）通过银行卡收款，家住***的李某某作证"

    @pytest.mark.parametrize("record_type,record", [("penalty", person_penalty()),
                                                    ("license", license())])
    def test_every_field_of_both_record_types(self, record_type, record):
        """An identity number or a mobile put into any field, by any name it may come under."""
        for name in standard.FIELDS[record_type]:
            for secret, form in ((ADULT_ID, ID_FORMS["spaces"]),
                                 (PHONE, PHONE_FORMS["country code spaced"])):
                fields = intake.normalise(record_type,
                                          {**record, name: f"备注{form}"}).fields
                public = privacy.mask(record_type, fields)
                assert not leaks(json.dumps(public, ensure_ascii=False), secret), (name, public)

    def test_legitimate_values_survive(self):
        firm = penalty(**{"行政处罚决定书文号": "烟环罚〔2026〕12号",
                          "违法事实": "在其位于烟台市芝罘区幸福路12号的经营场所销售过期食品，"
                                      "举报电话0535-6612345",
                          "处罚机关": "烟台市芝罘区向阳街道办事处"})
        public = privacy.mask("penalty", firm)
        for name in ("行政处罚决定书文号", "违法事实", "处罚机关", "行政相对人代码_1",
                     "罚款金额(万元)", "处罚决定日期", "处罚机关统一社会信用代码", "数据来源单位"):
            assert public[name] == firm[name], name
        person = privacy.mask("penalty", person_penalty(
            处罚机关="烟台市芝罘区向阳街道办事处", 处罚内容="罚款人民币5000元，2026-09-18前缴纳",
            违法事实="经烟台市芝罘区市场监督管理局查明，当事人于2026年9月1日在幸福路市场销售过期食品"))
        assert person["处罚机关"] == "烟台市芝罘区向阳街道办事处"
        assert person["处罚内容"] == "罚款人民币5000元，2026-09-18前缴纳"
        assert "烟台市芝罘区市场监督管理局" in person["违法事实"]
        for code in (FIRM, AUTHORITY, "91370602MA3C7XLK9X", "JY13706020012345"):
            assert privacy.mask_text(f"代码{code}") == f"代码{code}"
        assert privacy.mask_text("时间戳1764230400123") == "时间戳1764230400123"
        sole = privacy.mask("penalty", penalty(**{
            "行政相对人类别": "个体工商户", "行政相对人代码_1": samples.SOLE,
            "行政相对人名称": "芝罘区幸福路老张烧烤店"}))
        assert sole["行政相对人名称"] == "芝罘区幸福路老张烧烤店"

    def test_log_lines(self):
        line = (f"data: {{'证件号码': '{spaced(ADULT_ID, 6, 14, sep='-')}', "
                f"'tel': '+86 139 8765 4321'}} at 1764230400123 2026-11-27 13:45:12,345")
        masked = privacy.mask_identifiers(line)
        assert not leaks(masked, ADULT_ID, PHONE)
        assert "1764230400123" in masked and "2026-11-27 13:45:12,345" in masked
        assert privacy.mask_identifiers(AUTHORITY) == AUTHORITY


@pytest.mark.pure
@pytest.mark.parametrize(("fact", "masked"), [
    ("当事人住址不详销售过期食品一批", "当事人住址***销售过期食品一批"),
    ("当事人住址烟台市芝罘区南大街12号销售过期食品", "当事人住址***销售过期食品"),
    ("张某住址福山区门楼镇西村经营无证餐饮", "张某住址***经营无证餐饮"),
    ("住址：黄务街道某某小区，未取得许可擅自施工", "住址：***，未取得许可擅自施工"),
    ("王某家住某某新村因违反规定被处罚", "王某家住***因违反规定被处罚"),
])
def test_an_address_in_a_sentence_hides_the_address_only(fact, masked):
    assert privacy.mask("penalty", {"违法事实": fact, "行政相对人类别": "自然人"})["违法事实"] == \
        masked


@pytest.mark.pure
class TestLogRecords:
    @pytest.fixture
    def lines(self):
        log_privacy.install()
        out: list[str] = []
        handler = logging.Handler(logging.DEBUG)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.emit = lambda record: out.append(handler.format(record))
        logger = logging.getLogger("tests.yantai.privacy")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        yield logger, out
        logger.removeHandler(handler)

    def test_messages_exceptions_tracebacks_and_stacks(self, lines):
        logger, out = lines
        secret = ID_FORMS["spaces"]
        try:
            raise ValueError(f"bad record {secret} tel 139-8765-4321")
        except ValueError:
            logger.exception("failed for %s", ID_FORMS["zero-width"])
            logger.warning("with stack", stack_info=True, extra={})
        try:
            try:
                raise KeyError(ADULT_ID)
            except KeyError as error:
                raise RuntimeError("while handling") from error
        except RuntimeError:
            logger.error("chained", exc_info=True)
        text = "\n".join(out)
        assert "Traceback" in text and "ValueError" in text and "KeyError" in text
        assert not leaks(text, ADULT_ID, PHONE), text

    def test_sqlalchemy_statement_parameters(self, lines):
        logger, out = lines
        error = sa_exc.StatementError("boom", "INSERT INTO t (fields) VALUES (%(fields)s)",
                                      {"fields": {"证件号码": ADULT_ID, "住址": "幸福路12号"}},
                                      ValueError("x"))
        try:
            raise error
        except sa_exc.StatementError:
            logger.exception("db error")
        text = "\n".join(out)
        assert "INSERT INTO t" in text and ADULT_ID not in text and "幸福路12号" not in text


# -- the live portal ------------------------------------------------------------------------------

def postgres_log() -> pathlib.Path:
    return pathlib.Path(tk.config["__file__"]).resolve().parents[2] / "logs" / "postgresql.log"


def new_log_text(path: pathlib.Path, offset: int) -> str:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


@pytest.fixture
def root_lines():
    """Every log record of the process, formatted with its traceback, as a file handler would."""
    out: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    handler.emit = lambda record: out.append(handler.format(record))
    # ckan and ckanext do not propagate to the root logger in the test config
    loggers = [logging.getLogger(name) for name in ("", "ckan", "ckanext")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    disabled = [logger for name, logger in logging.root.manager.loggerDict.items()
                if isinstance(logger, logging.Logger) and logger.disabled]
    for logger in disabled:
        logger.disabled = False
    yield out
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)
    for logger in disabled:
        logger.disabled = True


@pytest.mark.usefixtures("clean_datastore")
class TestPublicTable:
    def test_datastore_search_shows_no_full_id_or_phone(self, department):  # noqa: F811 (fixture)
        records, number = [], 0

        def doc() -> str:
            nonlocal number
            number += 1
            return f"烟市监罚〔2026〕{number}号"

        for form in ID_FORMS.values():
            records.append(person_penalty(行政处罚决定书文号=doc(),
                                          违法事实=f"当事人（身份证号{form}）销售过期食品"))
        for form in PHONE_FORMS.values():
            records.append(person_penalty(行政处罚决定书文号=doc(), 备注=f"联系电话{form}"))
        # personal data in fields that were never masked
        records.append(person_penalty(行政处罚决定书文号=f"烟市监罚〔2026〕{ID_FORMS['dashes']}号"))
        records.append(person_penalty(行政处罚决定书文号=doc(),
                                      处罚机关=f"烟台市市场监督管理局（经办人{PHONE_FORMS['spaces']}）"))
        records.append(person_penalty(行政处罚决定书文号=doc(), 证件号码=ID_FORMS["spaces"]))
        records.append(person_penalty(行政处罚决定书文号=doc(), 证件号码=ID_FORMS["full-width"]))
        records.append(person_penalty(行政处罚决定书文号=doc(),
                                      违法事实="当事人张某某，烟台市芝罘区幸福路12号3单元，"
                                               f"电话0535-{LANDLINE}，银行卡{CARD}，销售过期食品"))
        result = department["editor"].ok("yantai_disclosure_submit",
                                         resource_id=department["resource"]["id"],
                                         records=records)
        assert result["public"] == len(records), [r["errors"] for r in result["records"]]
        search = department["anonymous"].ok("datastore_search",
                                            resource_id=department["resource"]["id"],
                                            limit=1000)
        assert search["total"] == len(records)
        text = json.dumps(search["records"], ensure_ascii=False)
        assert not leaks(text, ADULT_ID, PHONE, LANDLINE, CARD[:12], "幸福路12号")
        assert MASKED_ID in text and MASKED_PHONE in text
        assert "烟台市市场监督管理局" in text and "销售过期食品" in text

    def test_licence_records_too(self, department):  # noqa: F811 (fixture)
        person = license(**{"行政相对人名称": "张某某", "行政相对人类别": "自然人",
                            "行政相对人代码_1": None, "法定代表人": None, "证件类型": "身份证",
                            "证件号码": ADULT_ID,
                            "许可内容": f"个人（电话{PHONE_FORMS['dashes']}）从事食品摊贩经营",
                            "许可机关": f"烟台市行政审批服务局 {PHONE_FORMS['country code']}",
                            "许可证书名称": f"食品摊贩登记卡 {ID_FORMS['spaces']}"})
        result = department["editor"].ok("yantai_disclosure_submit",
                                         resource_id=department["licences"]["id"],
                                         records=[person])
        assert result["public"] == 1, result
        rows = department["anonymous"].ok("datastore_search",
                                          resource_id=department["licences"]["id"])["records"]
        assert not leaks(json.dumps(rows, ensure_ascii=False), ADULT_ID, PHONE)


@pytest.mark.usefixtures("clean_datastore")
class TestLogsAndDatabase:
    def test_postgresql_never_logs_statements_or_their_values(self):
        settings = {name: model.Session.execute(sa.text(f"SHOW {name}")).scalar()
                    for name in ("log_statement", "log_min_error_statement",
                                 "log_min_duration_statement", "log_error_verbosity",
                                 "log_min_messages", "log_parameter_max_length_on_error")}
        assert settings == {"log_statement": "none", "log_min_error_statement": "panic",
                            "log_min_duration_statement": "-1", "log_error_verbosity": "terse",
                            "log_min_messages": "log", "log_parameter_max_length_on_error": "0"}

    def test_sqlalchemy_errors_never_quote_parameters(self):
        from ckanext.datastore.backend.postgres import get_write_engine

        engine = cast(sa.engine.Engine, model.meta.engine)  # bound once CKAN is loaded
        assert engine.hide_parameters and get_write_engine().hide_parameters

    def test_a_unique_violation_leaves_no_values_in_the_postgresql_log(self):
        """A failing statement through a normal path: an ordinary DataStore table keyed by an
        identity number, the same key inserted twice."""
        org = factories.Organization()
        dataset = factories.Dataset(owner_org=org["id"])
        resource = call_action("resource_create", {"user": ckan_factories.Sysadmin()["name"]},
                               package_id=dataset["id"], name="名单", url="")
        path = postgres_log()
        offset = path.stat().st_size
        call_action("datastore_create", resource_id=resource["id"], primary_key="号码",
                    fields=[{"id": "号码", "type": "text"}, {"id": "备注", "type": "text"}],
                    records=[{"号码": ADULT_ID, "备注": "幸福路12号"}], force=True)
        with pytest.raises(tk.ValidationError):
            call_action("datastore_upsert", resource_id=resource["id"], method="insert",
                        records=[{"号码": ADULT_ID, "备注": "幸福路12号"}], force=True)
        logged = new_log_text(path, offset)
        assert ADULT_ID not in logged and "幸福路12号" not in logged, logged

    @pytest.mark.parametrize("bad", [
        {"备注\u0000": "x"},
        {"备\u0001注": "x"},
        {"\ud800": "x"},
        {"备注": "x\u0000y"},
        {"备注": ["a", "b"]},
        {"备注": {"a": "b"}},
    ], ids=["NUL in a key", "control character in a key", "lone surrogate in a key",
            "NUL in a value", "list value", "object value"])
    def test_a_record_the_database_cannot_take_is_refused_before_it(
            self, app, department, root_lines, bad):  # noqa: F811 (fixture)
        path = postgres_log()
        offset = path.stat().st_size
        record = {**person_penalty(违法事实=f"当事人身份证号{ADULT_ID}"), **bad}
        headers = department["editor"].headers
        # JSON with the lone surrogate escaped, as a client would send it
        body = json.dumps({"resource_id": department["resource"]["id"],
                           "records": [penalty(), record]})
        resp = app.post("/api/3/action/yantai_disclosure_submit", data=body, headers={
            **headers, "Content-Type": "application/json"}, status=None)
        error = resp.json["error"]
        if any("\u0000" in k + str(v) or "\ud800" in k for k, v in bad.items()):
            # text PostgreSQL cannot store is refused for the whole request, before any view
            assert resp.status_code == 400, resp.get_data(as_text=True)
            assert error["__type"] == "Bad Request Error" and "无法保存的字符" in error["message"]
        else:
            assert resp.status_code == 409, resp.get_data(as_text=True)
            assert error["__type"] == "Validation Error" and len(error["records"]) == 1
            assert error["records"][0].startswith("第 2 条记录："), error
        assert ADULT_ID not in resp.get_data(as_text=True)
        assert model.Session.query(DisclosureRecord).count() == 0  # nothing half-taken
        text = "\n".join(root_lines)
        assert ADULT_ID not in text, text
        assert ADULT_ID not in new_log_text(path, offset)

    def test_the_same_refusal_for_an_uploaded_file(self, app, department, root_lines):  # noqa: F811 (fixture)
        record = person_penalty(违法事实=f"当事人身份证号{ADULT_ID}")
        header = [*record, "备注\u0000"]
        data = (",".join(header) + "\n" + ",".join([*record.values(), "x"]) + "\n").encode()
        headers = {"Authorization": department["editor"].headers["Authorization"]}
        body = app.post("/api/3/action/resource_create", headers=headers, status=None, data={
            "package_id": department["dataset"]["id"], "name": "2026年行政处罚", "url": "",
            "record_type": "penalty", "upload": (io.BytesIO(data), "r.csv")}).json
        assert body["success"] is False and body["error"]["upload"], body
        names = [r["name"] for r in call_action("package_show",
                                                id=department["dataset"]["id"])["resources"]]
        assert "2026年行政处罚" not in names
        assert model.Session.query(DisclosureRecord).count() == 0
        assert ADULT_ID not in "\n".join(root_lines)


@pytest.mark.usefixtures("clean_db", "clean_index", "clean_datastore", "with_request_context",
                         "feeds_allowed")
def test_a_harvested_feed_goes_through_the_same_check(world):  # noqa: F811 (fixture)
    world["server"].files["/scjg/penalties.json"] = json.dumps(
        [samples.person_penalty(), {**samples.penalty(), "备注\u0000": "x"}]).encode()
    job = runner.run(add_source(world, "/scjg/penalties.json")["id"])
    messages = errors_of(job)
    assert len(messages) == 1 and messages[0].startswith("第 3 行："), messages
    assert model.Session.query(DisclosureRecord).count() == 0
