"""双公示 records on the portal, against the real services: the check action, intake into the
DataStore with personal data masked, the portal's clock, rechecks, and pushes to 信用烟台 over
real HTTP (the project's loopback receiver)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import pathlib
import subprocess
import sys
import urllib.parse
import uuid

import ckan.model as model
import ckan.plugins.toolkit as tk
import openpyxl
import pytest
import sqlalchemy as sa
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.yantai.disclosure import credit, recheck, submission
from ckanext.yantai.disclosure import push as pushes
from ckanext.yantai.model import CreditPush, DisclosureRecord
from ckanext.yantai.workdays import SHANGHAI
from demo.credit_receiver import Receiver
from tests import factories
from tests.api import Api
from tests.yantai.disclosure_records import ADULT_ID, FIRM, license, penalty, person_penalty

pytestmark = pytest.mark.usefixtures("clean_datastore")


def shanghai(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def department(app):
    editor = ckan_factories.UserWithToken()
    org = factories.Organization(title="烟台市市场监督管理局",
                                 users=[{"name": editor["name"], "capacity": "editor"}])
    dataset = factories.Dataset(owner_org=org["id"], title="行政处罚信息")
    as_editor = {"user": editor["name"]}
    resource = call_action("resource_create", dict(as_editor), package_id=dataset["id"],
                           name="行政处罚决定", record_type="penalty", url="")
    licences = call_action("resource_create", dict(as_editor), package_id=dataset["id"],
                           name="行政许可决定", record_type="license", url="")
    return {"org": org, "dataset": dataset, "resource": resource, "licences": licences,
            "editor": Api(app, editor["token"]), "editor_name": editor["name"],
            "anonymous": Api(app, None),
            "public": Api(app, ckan_factories.UserWithToken()["token"])}


def submit_at(department, moment: dt.datetime, records, resource="resource"):
    """Records arriving at a given moment (the portal's clock), as the editor sends them."""
    context = {"user": department["editor_name"], "ignore_auth": False}
    return submission.submit(context, department[resource]["id"], records, now=moment)


def stored(resource_id: str) -> list[DisclosureRecord]:
    model.Session.expire_all()
    return (model.Session.query(DisclosureRecord)
            .filter(DisclosureRecord.resource_id == resource_id).all())


def datastore_rows(resource_id: str) -> list[dict]:
    return call_action("datastore_search", resource_id=resource_id, limit=1000)["records"]


def datastore_text(resource_id: str) -> str:
    """Everything the DataStore database holds for the resource, as its writer sees it."""
    from ckanext.datastore.backend.postgres import get_write_engine

    with get_write_engine().connect() as conn:
        rows = conn.execute(sa.text(f'SELECT * FROM "{resource_id}"')).fetchall()
    return json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False)


class TestCheckAction:
    def test_anyone_can_check_a_record_and_gets_chinese_messages(self, department):
        body = department["anonymous"].ok(
            "yantai_compliance_check", record_type="penalty",
            record=penalty(**{"行政相对人代码_1": FIRM[:-1] + "0", "罚款金额(万元)": "5000元"}),
            published_at="2026-09-30T10:00:00+08:00")
        assert body["valid"] is False
        assert {(e["field"], e["code"], e["message"]) for e in body["errors"]} == {
            ("行政相对人代码_1", "uscc_checksum", "统一社会信用代码校验位错误（GB 32100-2015）"),
            ("罚款金额(万元)", "amount_unit", "金额单位为万元而非元：请除以10000"),
        }
        assert (body["deadline"], body["timeliness"], body["working_days_late"],
                body["publish"]) == ("2026-09-29", "late", 1, "allowed")
        assert model.Session.query(DisclosureRecord).count() == 0  # nothing stored

    def test_without_published_at_the_record_counts_as_published_now(self, department):
        today = dt.datetime.now(SHANGHAI).date().isoformat()  # decided today: on time now
        body = department["anonymous"].ok("yantai_compliance_check", record_type="license",
                                          record=license(许可决定日期=today, 有效期自=today))
        assert body["valid"] and body["timeliness"] == "on_time"
        assert body["deadline"] > today

    def test_bad_requests_get_structured_errors(self, department):
        error = department["anonymous"].errors("yantai_compliance_check", record_type="permit",
                                               record="not json")
        assert error["__type"] == "Validation Error"
        assert error["record_type"] == ["应为 license（行政许可）或 penalty（行政处罚）"]
        assert error["record"] == ["请以字段对象的形式提供记录"]
        naive = department["anonymous"].errors("yantai_compliance_check", record_type="penalty",
                                               record=penalty(),
                                               published_at="2026-09-30T10:00:00")
        assert "published_at" in naive

    def test_answers_never_echo_personal_data(self, department):
        wrong = ADULT_ID[:-1] + ("0" if ADULT_ID[-1] != "0" else "1")
        body = department["anonymous"].call("yantai_compliance_check", record_type="penalty",
                                            record=person_penalty(证件号码=wrong))
        assert body["success"] and wrong not in json.dumps(body, ensure_ascii=False)


class TestIntake:
    @pytest.mark.parametrize("resource_id", [[{"a": 1}], ["x"], {"id": "x"}, 7])
    def test_a_resource_id_that_is_not_a_string_is_a_validation_error(self, department,
                                                                       sysadmin_api,
                                                                       resource_id):
        # (found by the fuzz test: a list reached the database, a 500)
        for api in (department["editor"], sysadmin_api):
            errors = api.errors("yantai_disclosure_submit", resource_id=resource_id,
                                records=[person_penalty()])
            assert errors["resource_id"] == ["必须是资源的 ID"]

    def test_valid_records_go_online_masked_and_invalid_ones_are_kept_back(self, department):
        bad = person_penalty(行政处罚决定书文号="烟市监罚〔2026〕102号", 处罚决定日期="2026-02-30")
        result = department["editor"].ok(
            "yantai_disclosure_submit", resource_id=department["resource"]["id"],
            records=[person_penalty(违法事实=f"当事人（身份证号{ADULT_ID}）销售过期食品"), bad])
        assert (result["received"], result["public"], result["invalid"]) == (2, 1, 1)
        assert result["records"][1]["errors"] == [
            {"field": "处罚决定日期", "code": "date_format",
             "message": "日期格式不正确（例如 2026-03-01）"}]
        rows = datastore_rows(department["resource"]["id"])
        assert len(rows) == 1
        assert rows[0]["证件号码"] == ADULT_ID[:6] + "********" + ADULT_ID[-4:]
        assert rows[0]["违法事实"] == (
            f"当事人（身份证号{ADULT_ID[:6]}********{ADULT_ID[-4:]}）销售过期食品")
        assert ADULT_ID not in datastore_text(department["resource"]["id"])
        # kept in full for the credit push, with the invalid one
        assert {r.fields["证件号码"] for r in stored(department["resource"]["id"])} == {ADULT_ID}
        assert len(stored(department["resource"]["id"])) == 2

    def test_logs_and_errors_never_carry_personal_data(self, department):
        lines: list[str] = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = lambda record: lines.append(f"{record.name}: {record.getMessage()}")
        # (SQL echo, a debugging aid that is off in every profile, would show our own table)
        loggers = [logging.getLogger(name) for name in ("", "ckan", "ckanext")]
        levels = [logger.level for logger in loggers]
        for logger in loggers:
            logger.addHandler(handler)
            logger.setLevel(logging.DEBUG)
        # The test app's logging config may have disabled loggers created before it.
        ours = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                if name.startswith(("ckan.", "ckanext."))]
        disabled = [logger for logger in ours if logger.disabled]
        for logger in disabled:
            logger.disabled = False
        wrong = ADULT_ID[:-1] + ("0" if ADULT_ID[-1] != "0" else "1")
        try:
            body = department["editor"].call(
                "yantai_disclosure_submit", resource_id=department["resource"]["id"],
                records=[person_penalty(), person_penalty(证件号码=wrong,
                                                          行政处罚决定书文号="烟市监罚〔2026〕7号")])
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.removeHandler(handler)
                logger.setLevel(level)
            for logger in disabled:
                logger.disabled = True
        assert body["success"] and body["result"]["invalid"] == 1
        text = json.dumps(body, ensure_ascii=False) + "\n".join(lines)
        assert any("2 双公示 records received" in line for line in lines), lines
        assert any("fails 证件号码:ric_checksum" in line for line in lines)
        assert ADULT_ID not in text and wrong not in text

    def test_masked_in_the_dump_and_for_anonymous_api_users(self, app, department):
        department["editor"].ok("yantai_disclosure_submit",
                                resource_id=department["resource"]["id"],
                                records=[person_penalty()])
        resource_id = department["resource"]["id"]
        dump = app.get(f"/datastore/dump/{resource_id}?format=csv").get_data(as_text=True)
        assert ADULT_ID not in dump and ADULT_ID[-4:] in dump
        search = department["anonymous"].ok("datastore_search", resource_id=resource_id, q="张某某")
        assert search["total"] == 1 and ADULT_ID not in json.dumps(search, ensure_ascii=False)

    def test_direct_datastore_writes_are_refused_even_for_sysadmins(self, department,
                                                                    sysadmin_api):
        submit_at(department, shanghai("2026-09-21T10:00:00"), [penalty()])
        for action, extra in (("datastore_upsert", {"records": [{"证件号码": ADULT_ID}],
                                                    "method": "insert"}),
                              ("datastore_create", {"records": [{"证件号码": ADULT_ID}]}),
                              ("datastore_delete", {}),
                              ("datastore_records_delete", {"filters": {}})):
            error = sysadmin_api.errors(action, resource_id=department["resource"]["id"],
                                        force=True, **extra)
            assert "yantai_disclosure_submit" in error["resource_id"][0], action
        assert len(datastore_rows(department["resource"]["id"])) == 1

    def test_internal_writes_other_than_the_sync_are_refused(self, department):
        # call_action is an internal call (ignore_auth): only the sync's own context passes
        submit_at(department, shanghai("2026-09-21T10:00:00"), [penalty()])
        resource_id = department["resource"]["id"]
        for action, extra in (("datastore_upsert", {"records": [{"证件号码": ADULT_ID}],
                                                    "method": "insert"}),
                              ("datastore_delete", {}),
                              ("datastore_records_delete", {"filters": {}})):
            with pytest.raises(tk.ValidationError) as error:
                call_action(action, resource_id=resource_id, force=True, **extra)
            assert "yantai_disclosure_submit" in str(error.value.error_dict), action
        with pytest.raises(tk.ValidationError):
            call_action("datastore_create", resource={
                "package_id": department["dataset"]["id"], "record_type": "penalty"},
                records=[{"证件号码": ADULT_ID}], force=True)
        assert len(datastore_rows(resource_id)) == 1

    def test_a_records_table_is_written_by_no_key_ckan_accepts(self, department, sysadmin_api):
        submit_at(department, shanghai("2026-09-21T10:00:00"), [penalty()])
        records_table = department["resource"]["id"]
        # A table of the editor's own, to name beside the records table.
        own = department["editor"].ok("datastore_create", resource={
            "package_id": department["dataset"]["id"], "name": "自建表"},
            records=[{"a": "1"}])["resource_id"]
        forged = [{"证件号码": ADULT_ID, "当事人名称": "伪造"}]
        attempts = [
            ("datastore_upsert", {"id": records_table, "records": forged, "method": "insert"}),
            ("datastore_upsert", {"resource_id": own, "id": records_table, "records": forged,
                                  "method": "insert"}),
            ("datastore_upsert", {"resource_id": f" {records_table}\t", "records": forged,
                                  "method": "insert"}),
            ("datastore_create", {"id": records_table, "records": forged}),
            ("datastore_create", {"resource": {"package_id": department["dataset"]["id"],
                                               "name": "伪造处罚", "record_type": "penalty"},
                                  "records": forged}),
            ("datastore_delete", {"id": records_table}),
            ("datastore_delete", {"resource_id": own, "id": records_table}),
            ("datastore_records_delete", {"id": records_table, "filters": {}}),
        ]
        for api in (department["editor"], sysadmin_api):
            for action, data in attempts:
                body = api.call(action, force=True, **data)
                assert body["success"] is False, (action, data)
        assert len(datastore_rows(records_table)) == 1
        assert ADULT_ID not in datastore_text(records_table)
        assert [r["name"] for r in call_action("package_show", id=department["dataset"]["id"])
                ["resources"]].count("伪造处罚") == 0

    def test_classification_markings_in_records_are_refused(self, department):
        for text in ("绝 密★", "機密", "密-级：秘密", "机<b></b>密★"):
            body = department["editor"].call(
                "yantai_disclosure_submit", resource_id=department["resource"]["id"],
                records=[penalty(违法事实=f"涉及{text}文件")])
            assert body["success"] is False and body["error"]["records"], text
        assert stored(department["resource"]["id"]) == []

    def test_a_hidden_records_table_reads_as_missing_to_outsiders(self, department, app):
        submit_at(department, shanghai("2026-09-21T10:00:00"), [penalty()])
        call_action("package_patch", {"user": department["editor_name"]},
                    id=department["dataset"]["id"], open_type="closed", share_type="none",
                    share_condition="不共享")
        outsider = ckan_factories.UserWithToken()
        factories.Organization(users=[{"name": outsider["name"], "capacity": "admin"}])
        api = Api(app, outsider["token"])
        hidden, missing = department["resource"]["id"], "0b7c6a3e-2f1d-4e5a-9c8b-7d6e5f4a3b2c"
        for action, data in (("datastore_upsert", {"records": [{"a": "1"}], "method": "insert"}),
                             ("datastore_delete", {}),
                             ("datastore_create", {"records": [{"机密★": "x"}]})):
            answers = [app.post(f"/api/3/action/{action}", headers=api.headers, status=None,
                                json={"resource_id": rid, "force": True, **data})
                       for rid in (hidden, missing)]
            bodies = [json.dumps(a.json["error"], ensure_ascii=False).replace(rid, "<id>")
                      for a, rid in zip(answers, (hidden, missing), strict=True)]
            # CKAN's own answer for a missing table: 404, or datastore_create's validation error
            assert answers[0].status_code == answers[1].status_code in (404, 409), (action, bodies)
            assert bodies[0] == bodies[1], action
        assert len(datastore_rows(hidden)) == 1

    def test_a_resource_holding_records_is_not_deleted(self, department):
        submit_at(department, shanghai("2026-09-21T10:00:00"), [penalty()])
        resource_id = department["resource"]["id"]
        assert department["editor"].errors("resource_delete", id=resource_id)["record_type"]
        dataset = call_action("package_show", id=department["dataset"]["id"])
        dataset["resources"] = [r for r in dataset["resources"] if r["id"] != resource_id]
        assert department["editor"].call("package_update", **dataset)["success"] is False
        department["editor"].ok("package_patch", id=department["dataset"]["id"], notes="更新说明")
        model.Session.expire_all()
        resource = model.Resource.get(resource_id)
        assert resource is not None and resource.state == "active"
        assert len(stored(resource_id)) == 1

    def test_no_alias_takes_a_resources_id(self, department):
        # A 双公示 resource without records yet: its id must not become another table's alias.
        for alias in (department["licences"]["id"], str(uuid.uuid4()),
                      f"x,{department['licences']['id']}"):
            body = department["editor"].call(
                "datastore_create", resource={"package_id": department["dataset"]["id"],
                                              "name": "自建表"},
                aliases=alias, fields=[{"id": "当事人名称", "type": "text"}],
                records=[{"当事人名称": "伪造"}])
            assert body["success"] is False and body["error"]["aliases"], alias
        # Nor may a resource whose id is already an alias of other data become a records table.
        own = department["editor"].ok("datastore_create", resource={
            "package_id": department["dataset"]["id"], "name": "自建表"}, aliases="mingcheng",
            fields=[{"id": "当事人名称", "type": "text"}], records=[{"当事人名称": "伪造"}])
        body = department["editor"].call("resource_create", package_id=department["dataset"]["id"],
                                         id="mingcheng", name="处罚", record_type="penalty", url="")
        assert body["success"] is False, body
        assert own["resource_id"] != "mingcheng"

    def test_a_resource_holding_records_keeps_its_record_type(self, department):
        submit_at(department, shanghai("2026-09-21T10:00:00"), [penalty()])
        resource_id = department["resource"]["id"]
        for value in ("", " ", "license", "None"):
            error = department["editor"].errors("resource_patch", id=resource_id,
                                                record_type=value)
            assert error, value
        dataset = call_action("package_show", id=department["dataset"]["id"])
        for res in dataset["resources"]:
            res.pop("record_type", None)  # a dataset update that drops the field altogether
        assert department["editor"].call("package_update", **dataset)["success"] is False
        model.Session.expire_all()
        resource = model.Resource.get(resource_id)
        assert resource is not None and resource.extras["record_type"] == "penalty"

    def test_a_table_of_other_data_does_not_become_a_records_table(self, department):
        own = department["editor"].ok("datastore_create", resource={
            "package_id": department["dataset"]["id"], "name": "自建表"},
            fields=[{"id": "证件号码", "type": "text"}],
            records=[{"证件号码": ADULT_ID}])["resource_id"]
        error = department["editor"].errors("resource_patch", id=own, record_type="penalty")
        assert error["record_type"]
        model.Session.expire_all()
        resource = model.Resource.get(own)
        assert resource is not None and not resource.extras.get("record_type")

    def test_only_the_departments_editors_may_submit(self, department):
        for who in ("anonymous", "public"):
            body = department[who].call("yantai_disclosure_submit",
                                        resource_id=department["resource"]["id"],
                                        records=[penalty()])
            assert body["error"]["__type"] == "Authorization Error"
        assert stored(department["resource"]["id"]) == []

    def test_bad_submissions_are_refused_whole(self, department):
        error = department["editor"].errors("yantai_disclosure_submit",
                                            resource_id=department["resource"]["id"],
                                            records={"行政相对人名称": "x"})
        assert error["records"] == ["请提供记录列表（JSON 对象）"]
        plain = call_action("resource_create", {"user": department["editor_name"]},
                            package_id=department["dataset"]["id"], name="普通资源", url="")
        error = department["editor"].errors("yantai_disclosure_submit", resource_id=plain["id"],
                                            records=[penalty()])
        assert error["resource_id"] == [
            "该资源不是双公示资源：请先设置其记录类型（行政许可或行政处罚）"]

    def test_a_record_sent_again_replaces_itself_and_keeps_its_first_public_time(self,
                                                                                department):
        submit_at(department, shanghai("2026-09-21T10:00:00"), [penalty()])
        again = submit_at(department, shanghai("2026-10-20T10:00:00"),
                          [penalty(违法事实="经营超过保质期的食品（更正）")])
        rows = stored(department["resource"]["id"])
        assert len(rows) == 1
        assert rows[0].first_public_at == shanghai("2026-09-21T10:00:00")
        assert again["records"][0]["timeliness"] == "on_time"
        assert datastore_rows(department["resource"]["id"])[0]["违法事实"].endswith("（更正）")

    def test_headers_of_the_template_and_of_2016_are_taken(self, department):
        record = {("行政相对人代码_1（统一社会信用代码）" if k == "行政相对人代码_1" else k): v
                  for k, v in penalty().items()}
        record["处罚事由"] = record.pop("违法事实")
        submit_at(department, shanghai("2026-09-21T10:00:00"), [record])
        row = datastore_rows(department["resource"]["id"])[0]
        assert (row["行政相对人代码_1"], row["违法事实"]) == (FIRM, "经营超过保质期的食品")


class TestPublicTable:
    """The public table of records: typed columns, searchable in Chinese."""

    FINES = {"烟市监罚〔2026〕201号": "5", "烟市监罚〔2026〕202号": "4.72",
             "烟市监罚〔2026〕203号": "28", "烟市监罚〔2026〕204号": "3万元"}

    def submit(self, department):
        firms = ["烟台恒瑞食品有限公司", "莱山区老味道餐饮店", "山东鲁信化工股份有限公司",
                 "蓬莱海景酒店"]
        facts = ["销售过期食品", "无证经营餐饮服务", "超标排放大气污染物", "未按规定公示年度报告"]
        records = [penalty(行政处罚决定书文号=number, **{"罚款金额(万元)": fine},
                           行政相对人名称=firm, 违法事实=fact, 处罚有效期="长期")
                   for (number, fine), firm, fact in zip(self.FINES.items(), firms, facts,
                                                        strict=True)]
        result = department["editor"].ok("yantai_disclosure_submit",
                                          resource_id=department["resource"]["id"],
                                          records=records)
        assert result["public"] == 4, result
        return department["resource"]["id"]

    def test_columns_are_typed(self, department):
        resource_id = self.submit(department)
        info = call_action("datastore_info", id=resource_id)
        types = {f["id"]: f["type"] for f in info["fields"]}
        assert types["罚款金额(万元)"] == "numeric"
        assert types["处罚决定日期"] == types["处罚有效期"] == "date"
        assert types["首次公开时间"] == "timestamptz"
        assert types["违法事实"] == "text"
        found = department["anonymous"].ok("datastore_search", resource_id=resource_id,
                                           sort="罚款金额(万元) desc")
        assert [r["罚款金额(万元)"] for r in found["records"]] == [28, 5, 4.72, 3]
        row = found["records"][0]
        assert row["处罚决定日期"] == "2026-09-18" and row["处罚有效期"] == "infinity"
        assert row["首次公开时间"].endswith("+08:00")
        over = department["anonymous"].ok("datastore_search_sql", sql=(
            f'SELECT count(*) AS n FROM "{resource_id}" WHERE "罚款金额(万元)" > 4.8'))
        assert over["records"][0]["n"] == 2

    @pytest.mark.parametrize(("q", "count"), [
        ("食品", 4), ("烟台", 4), ("餐饮", 1), ("恒瑞", 1), ("超标排放", 1), ("过期食品", 1),
        ("海景", 1), ("罚款", 4), ("排放 餐饮", 0)])
    def test_rows_are_found_by_chinese_words(self, department, q, count):
        resource_id = self.submit(department)
        found = department["anonymous"].ok("datastore_search", resource_id=resource_id, q=q)
        assert found["total"] == count

    def test_the_resource_downloads_as_the_masked_table_in_csv(self, app, department):
        resource_id = self.submit(department)
        shown = department["anonymous"].ok("resource_show", id=resource_id)
        assert shown["url"].endswith(f"/resource/{resource_id}/table.csv")
        answer = app.get(f"/dataset/{department['dataset']['name']}/resource/{resource_id}"
                         "/download", follow_redirects=True)
        text = answer.data.decode("utf-8")
        assert text.startswith("\ufeff记录标识,") and "烟台恒瑞食品有限公司" in text
        assert ADULT_ID not in text
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        assert {r["处罚有效期"] for r in rows} == {"长期"}  # not the DataStore's 'infinity'
        name = answer.headers["Content-Disposition"].split("''", 1)[1]
        assert urllib.parse.unquote(name) == "行政处罚信息-行政处罚决定.csv"

    def test_a_table_of_text_columns_is_rebuilt_typed(self, department):
        from ckanext.yantai.disclosure import publish

        resource_id = self.submit(department)
        context = publish.sync_context()
        call_action("datastore_delete", dict(context), resource_id=resource_id, force=True)
        call_action("datastore_create", dict(context), resource_id=resource_id, force=True,
                    fields=[{"id": f["id"], "type": "text"}
                            for f in publish.datastore_fields("penalty")], records=[])
        assert publish.retype(resource_id, "penalty") is True
        assert publish.retype(resource_id, "penalty") is False
        found = call_action("datastore_search", resource_id=resource_id, sort="罚款金额(万元)")
        assert [r["罚款金额(万元)"] for r in found["records"]] == [3, 4.72, 5, 28]


class TestPortalClock:
    def test_timeliness_is_measured_by_when_the_record_went_online_here(self, department):
        # Decided 2026-09-18, deadline 2026-09-29; it reaches the portal on 2026-10-09.
        result = submit_at(department, shanghai("2026-10-09T09:00:00"), [penalty()])
        assert result["records"][0]["timeliness"] == "late"
        row = stored(department["resource"]["id"])[0]
        assert (row.timeliness, row.working_days_late) == ("late", 3)
        assert datastore_rows(department["resource"]["id"])[0]["首次公开时间"] == \
            "2026-10-09T09:00:00+08:00"

    def test_an_invalid_record_is_pending_then_overdue_then_late_when_corrected(self,
                                                                               department):
        broken = penalty(处罚依据=None)
        assert submit_at(department, shanghai("2026-09-21T10:00:00"),
                         [broken])["records"][0]["timeliness"] == "pending"
        counts = recheck.recheck(workers=1, now=shanghai("2026-09-30T08:00:00"))
        assert counts["checked"] == 1 and counts["changed"] == 1
        assert stored(department["resource"]["id"])[0].timeliness == "overdue"
        submit_at(department, shanghai("2026-10-08T10:00:00"), [penalty()])
        row = stored(department["resource"]["id"])[0]
        assert (row.timeliness, row.working_days_late, row.public) == ("late", 2, True)


class TestRecheck:
    def test_an_expired_penalty_leaves_the_public_table(self, department):
        submit_at(department, shanghai("2025-11-20T10:00:00"), [penalty(处罚决定日期="2025-11-18")])
        assert len(datastore_rows(department["resource"]["id"])) == 1
        counts = recheck.recheck(workers=1, now=shanghai("2026-11-19T00:30:00"))
        assert counts["withdrawn"] == 1
        assert datastore_rows(department["resource"]["id"]) == []
        row = stored(department["resource"]["id"])[0]
        assert (row.publish, row.public) == ("expired", False)
        assert row.withdrawn_at == shanghai("2026-11-19T00:30:00")

    def test_a_revoked_decision_is_withdrawn(self, department):
        submit_at(department, shanghai("2026-09-21T10:00:00"), [penalty()])
        submit_at(department, shanghai("2026-10-21T10:00:00"), [penalty(当前状态="撤销")])
        assert datastore_rows(department["resource"]["id"]) == []
        assert stored(department["resource"]["id"])[0].publish == "revoked"

    def test_calendar_missing_records_get_their_deadline_when_the_year_is_added(
            self, department, tmp_path, monkeypatch):
        moment = shanghai("2026-12-24T10:00:00")
        submit_at(department, moment, [penalty(处罚决定日期="2026-12-23")])
        row = stored(department["resource"]["id"])[0]
        assert (row.timeliness, row.deadline, row.missing_year) == ("calendar_missing", None, 2027)
        table = tmp_path / "2027.yaml"
        table.write_text(
            "years:\n- year: 2027\n  source: {title: 国务院办公厅关于2027年部分节假日安排的通知}\n"
            "  holidays: [{date: 2027-01-01, name: 元旦}]\n", encoding="utf-8")
        from ckan.plugins.toolkit import config

        monkeypatch.setitem(config, "ckanext.yantai.calendar.path", str(table))
        recheck.recheck(workers=1, now=moment)
        row = stored(department["resource"]["id"])[0]
        # 12-24, 25, 28, 29, 30, 31, (01-01 off), 01-04
        assert (row.timeliness, row.deadline, row.missing_year) == (
            "on_time", dt.date(2027, 1, 4), None)


class TestPush:
    @pytest.fixture
    def receiver(self, monkeypatch):
        from ckan.plugins.toolkit import config

        with Receiver(token="s3cret") as server:
            monkeypatch.setitem(config, "ckanext.yantai.credit.endpoint", server.url)
            monkeypatch.setitem(config, "ckanext.yantai.credit.token", "s3cret")
            yield server

    def test_public_records_are_pushed_in_full_once(self, department, receiver):
        moment = shanghai("2026-09-21T10:00:00")
        submit_at(department, moment, [person_penalty(), penalty(处罚依据=None)])
        assert pushes.send_due(now=moment) == {"sent": 1, "failed": 0, "rejected": 0}
        [message] = receiver.received()
        assert (message["kind"], message["record_type"]) == ("publish", "penalty")
        assert message["record"]["证件号码"] == ADULT_ID  # the credit site gets the real value
        assert message["source"] == department["org"]["name"]
        push = model.Session.query(CreditPush).one()
        assert (push.status, push.receipt_id) == ("sent", message["receipt_id"])
        # sent again without a change: nothing new
        submit_at(department, moment, [person_penalty()])
        assert pushes.send_due(now=moment)["sent"] == 0
        assert len(receiver.received()) == 1
        assert {r.push_status for r in stored(department["resource"]["id"])} == {"sent", "none"}

    def test_the_same_decision_in_an_aggregating_department_is_taken_too(self, department,
                                                                         receiver):
        # 发改委 gathers every department's penalties: the same decision, with the same content,
        # arrives in its resource as well.
        aggregator = factories.Organization(title="烟台市发展和改革委员会")
        dataset = factories.Dataset(owner_org=aggregator["id"], title="行政处罚信息汇集")
        sysadmin = ckan_factories.Sysadmin()
        resource = call_action("resource_create", {"user": sysadmin["name"]},
                               package_id=dataset["id"], name="行政处罚决定",
                               record_type="penalty", url="")
        moment = shanghai("2026-09-21T10:00:00")
        submit_at(department, moment, [penalty()])
        result = submission.submit({"user": sysadmin["name"]}, resource["id"], [penalty()],
                                   now=moment)
        assert result["public"] == 1, result
        assert pushes.send_due(now=moment)["sent"] == 2
        assert len(receiver.received()) == 1  # one message: the site had it already
        for resource_id in (department["resource"]["id"], resource["id"]):
            assert [r.push_status for r in stored(resource_id)] == ["sent"]
        # The migration that allowed this can be taken back (the duplicate push goes) and redone.
        command = [str(pathlib.Path(sys.executable).parent / "ckan"), "-c",
                   tk.config["__file__"], "db"]
        model.Session.remove()
        for step in (["downgrade", "-p", "yantai", "--version", "d2a9f4c6e1b8"],
                     ["upgrade", "-p", "yantai"]):
            done = subprocess.run(command + step, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-2000:]
        assert model.Session.query(CreditPush).count() == 1

    def test_failures_are_retried_later_with_backoff(self, department, receiver):
        moment = shanghai("2026-09-21T10:00:00")
        submit_at(department, moment, [penalty()])
        receiver.fail_next(10, status=503)
        sender = credit.CreditClient(receiver.url, token="s3cret", attempts=2,
                                     sleep=lambda s: None)
        assert pushes.send_due(now=moment, sender=sender)["failed"] == 1
        push = model.Session.query(CreditPush).one()
        assert push.status == "failed" and push.next_attempt_at == moment + dt.timedelta(
            seconds=60)
        assert stored(department["resource"]["id"])[0].push_status == "failed"
        # not due yet; then due and the site is back
        assert pushes.send_due(now=moment + dt.timedelta(seconds=30),
                               sender=sender)["sent"] == 0
        receiver.fail_next(0)
        assert pushes.send_due(now=moment + dt.timedelta(seconds=61),
                               sender=sender)["sent"] == 1
        assert len(receiver.received()) == 1

    def test_withdrawal_after_revocation(self, department, receiver):
        moment = shanghai("2026-09-21T10:00:00")
        submit_at(department, moment, [penalty()])
        pushes.send_due(now=moment)
        submit_at(department, moment + dt.timedelta(days=30), [penalty(当前状态="撤销")])
        pushes.send_due(now=moment + dt.timedelta(days=30))
        kinds = [(m["kind"], m["reason"]) for m in receiver.received()]
        assert kinds == [("publish", None), ("withdraw", "revoked")]

    def test_a_record_published_again_after_a_withdrawal_is_pushed_again(self, department,
                                                                          receiver):
        moment = shanghai("2026-09-21T10:00:00")
        steps = [penalty(), penalty(当前状态="撤销"), penalty(), penalty(当前状态="撤销")]
        for day, record in enumerate(steps):
            at = moment + dt.timedelta(days=day)
            submit_at(department, at, [record])
            pushes.send_due(now=at)
        kinds = [(m["kind"], m["reason"], m["generation"]) for m in receiver.received()]
        assert kinds == [("publish", None, 0), ("withdraw", "revoked", 0),
                         ("publish", None, 1), ("withdraw", "revoked", 1)]
        assert [r.push_status for r in stored(department["resource"]["id"])] == ["sent"]

    def test_without_an_endpoint_pushes_wait(self, department):
        submit_at(department, shanghai("2026-09-21T10:00:00"), [penalty()])
        assert pushes.send_due() == {"sent": 0, "failed": 0, "rejected": 0}
        assert model.Session.query(CreditPush).one().status == "pending"


class TestFileUpload:
    """Departments upload their records as CSV or XLSX: read into records, never stored as a
    file."""

    def upload(self, app, department, filename, data, **extra):
        headers = {"Authorization": department["editor"].headers["Authorization"]}
        return app.post("/api/3/action/resource_create", headers=headers, status=None, data={
            "package_id": department["dataset"]["id"], "name": "2026年行政处罚", "url": "",
            "record_type": "penalty", "upload": (io.BytesIO(data), filename), **extra}).json

    def test_a_gb18030_csv_with_template_headers(self, app, department):
        good, bad = person_penalty(), penalty(行政处罚决定书文号="烟市监罚〔2026〕9号", 处罚依据="")
        header = [("行政相对人代码_1（统一社会信用代码）" if k == "行政相对人代码_1" else k)
                  for k in dict.fromkeys([*good, *bad])]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for record in (good, bad):
            plain = {("行政相对人代码_1（统一社会信用代码）" if k == "行政相对人代码_1" else k): v
                     for k, v in record.items()}
            writer.writerow([plain.get(h, "") for h in header])
        body = self.upload(app, department, "records.csv", out.getvalue().encode("gb18030"))
        assert body["success"], body
        resource = body["result"]
        assert resource["url_type"] == "datastore"
        rows = datastore_rows(resource["id"])
        assert len(rows) == 1 and rows[0]["证件号码"].count("*") == 8
        assert len(stored(resource["id"])) == 2
        storage = pathlib.Path(tk.config["ckan.storage_path"]) / "resources"
        rid = resource["id"]
        assert not (storage / rid[:3] / rid[3:6] / rid[6:]).exists()
        for path in storage.rglob("*") if storage.exists() else ():
            assert path.is_dir() or ADULT_ID.encode() not in path.read_bytes()

    def test_an_xlsx_file(self, app, department):
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        record = penalty()
        sheet.append(list(record))
        sheet.append(list(record.values()))
        data = io.BytesIO()
        book.save(data)
        body = self.upload(app, department, "records.xlsx", data.getvalue())
        assert body["success"], body
        assert len(datastore_rows(body["result"]["id"])) == 1

    def test_other_files_are_refused_with_nothing_saved(self, app, department):
        body = self.upload(app, department, "records.pdf", b"%PDF-1.4 ...")
        assert body["error"]["upload"] == ["请以 CSV 或 XLSX 文件上传记录"]
        empty = self.upload(app, department, "records.csv", "行政相对人名称\n".encode())
        assert empty["error"]["upload"] == ["文件中没有记录：应有表头行和至少一条记录"]
        names = [r["name"] for r in call_action("package_show",
                                                id=department["dataset"]["id"])["resources"]]
        assert "2026年行政处罚" not in names

    def test_a_file_uploaded_to_an_existing_resource(self, app, department):
        headers = {"Authorization": department["editor"].headers["Authorization"]}
        resource = department["resource"]

        def update(records):
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(list(records[0]))
            for record in records:
                writer.writerow(list(record.values()))
            return app.post("/api/3/action/resource_update", headers=headers, status=None, data={
                "id": resource["id"], "name": resource["name"], "url": "",
                "record_type": "penalty",
                "upload": (io.BytesIO(out.getvalue().encode()), "records.csv")}).json

        body = update([penalty()])
        assert body["success"], body
        assert body["result"]["url_type"] == "datastore"
        assert len(datastore_rows(resource["id"])) == 1
        # a bad row refuses the whole file, saying which row, and nothing changes
        bad = update([penalty(行政处罚决定书文号="烟市监罚〔2026〕9号"),
                      penalty(行政处罚决定书文号="烟市监罚〔2026〕10号", 违法事实="违法\x9f事实")])
        assert bad["error"]["upload"] == ["第 3 行：字段值含有控制字符（如 NUL）或无效字符"]
        assert len(stored(resource["id"])) == 1
