"""Where each department stands on 双公示: report, ranking, trend, drill-down, pages, exports and
the CLI, against the real services. Two departments' records arrive at known moments (the
portal's clock), so every figure is known in advance."""
from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.yantai.disclosure import recheck, submission
from ckanext.yantai.workdays import SHANGHAI
from tests import factories
from tests.api import Api
from tests.yantai.disclosure_records import ADULT_ID, FIRM, make_uscc, penalty

pytestmark = pytest.mark.usefixtures("clean_datastore")


def shanghai(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def record(n: int, decided: str, **changes):
    """A distinct penalty record (its own document number and party)."""
    fields = {"行政处罚决定书文号": f"烟市监罚〔2026〕{n}号",
              "行政相对人代码_1": make_uscc("91370602", f"MA{n:06d}"), "处罚决定日期": decided}
    return penalty(**{**fields, **changes})


def department_with_records(title: str, name: str) -> dict:
    editor = ckan_factories.UserWithToken()
    org = factories.Organization(name=name, title=title,
                                 users=[{"name": editor["name"], "capacity": "editor"}])
    dataset = factories.Dataset(owner_org=org["id"])
    resource = call_action("resource_create", {"user": editor["name"]}, package_id=dataset["id"],
                           name="行政处罚决定", record_type="penalty", url="")
    return {"org": org, "editor": editor, "resource": resource}


def send(dept: dict, moment: str, records: list) -> None:
    submission.submit({"user": dept["editor"]["name"]}, dept["resource"]["id"], records,
                      now=shanghai(moment))


@pytest.fixture
def city(app):
    """市场监管局: in September 2 on time, 1 late by 3 working days, 1 invalid (bad credit code,
    still pending at submission, overdue now); in October 1 on time and 1 late by 1 day.
    生态环境局: in September 1 on time. The data authority reviews, a citizen looks."""
    market = department_with_records("烟台市市场监督管理局", "ytsj")
    ecology = department_with_records("烟台市生态环境局", "ythb")
    # September decisions: 2026-09-18, deadline 2026-09-29
    send(market, "2026-09-21T10:00:00", [record(1, "2026-09-18"), record(2, "2026-09-18"),
                                         record(3, "2026-09-18", 行政相对人代码_1=FIRM[:-1] + "0")])
    send(market, "2026-10-09T10:00:00", [record(4, "2026-09-18")])  # late: 3 working days
    # October decisions: 2026-10-20, deadline 2026-10-29
    send(market, "2026-10-22T10:00:00", [record(5, "2026-10-20")])
    send(market, "2026-10-30T10:00:00", [record(6, "2026-10-20")])  # late: 1 working day
    send(ecology, "2026-09-21T10:00:00", [record(7, "2026-09-18", 处罚机关="烟台市生态环境局")])
    recheck.recheck(workers=1, now=shanghai("2026-11-27T09:00:00"))
    authority_user = ckan_factories.UserWithToken()
    factories.Organization(name="ytdsjj", title="烟台市大数据局",
                           users=[{"name": authority_user["name"], "capacity": "editor"}])
    return {"market": market, "ecology": ecology,
            "authority": Api(app, authority_user["token"]),
            "market_staff": Api(app, market["editor"]["token"]),
            "ecology_staff": Api(app, ecology["editor"]["token"]),
            "citizen": Api(app, ckan_factories.UserWithToken()["token"]),
            "anonymous": Api(app, None), "authority_user": authority_user}


PERIOD = {"start": "2026-09", "end": "2026-10"}


class TestReport:
    def test_figures_per_department(self, city):
        body = city["authority"].ok("yantai_compliance_report", **PERIOD)
        market, ecology = sorted(body["departments"], key=lambda d: d["organization"])[::-1]
        assert market["organization"] == "ytsj"
        assert {k: market[k] for k in ("records", "on_time", "late", "overdue", "pending",
                                       "invalid", "public")} == {
            "records": 6, "on_time": 3, "late": 2, "overdue": 1, "pending": 0, "invalid": 1,
            "public": 5}
        assert market["late_by_days"] == {"1": 1, "2-3": 1, "4-7": 0, ">7": 0}
        assert market["invalid_by_rule"] == {"uscc_checksum": 1}
        assert market["on_time_rate"] == 0.5
        assert (ecology["records"], ecology["on_time_rate"]) == (1, 1.0)
        assert body["total"]["records"] == 7 and body["total"]["on_time"] == 4

    def test_the_period_counts_decision_months(self, city):
        body = city["authority"].ok("yantai_compliance_report", start="2026-10", end="2026-10")
        assert [(d["organization"], d["records"]) for d in body["departments"]] == [("ytsj", 2)]

    def test_department_staff_see_their_own_department_only(self, city):
        body = city["market_staff"].ok("yantai_compliance_report", **PERIOD)
        assert [d["organization"] for d in body["departments"]] == ["ytsj"]
        assert body["total"]["records"] == 6
        error = city["market_staff"].errors("yantai_compliance_report", organization="ythb")
        assert error["__type"] == "Not Found Error"

    def test_citizens_and_anonymous_users_get_no_figures(self, city):
        for who in ("citizen", "anonymous"):
            for action in ("yantai_compliance_report", "yantai_compliance_ranking",
                           "yantai_compliance_trend", "yantai_compliance_records"):
                body = city[who].call(action, organization="ytsj")
                assert body["error"]["__type"] == "Authorization Error", (who, action)

    def test_bad_periods(self, city):
        error = city["authority"].errors("yantai_compliance_report", start="2026-13", end="x")
        assert error["start"] == ["请按 YYYY-MM 填写月份"] and "end" in error
        error = city["authority"].errors("yantai_compliance_report", start="2026-10",
                                         end="2026-09")
        assert error["end"] == ["结束月份早于开始月份"]
        for start in ("0001-01", "0000-01", "２０２６-０９", "2026-09 "):
            error = city["authority"].errors("yantai_compliance_trend", start=start)
            assert error["start"] == ["请按 YYYY-MM 填写月份"], (start, error)
        error = city["authority"].errors("yantai_compliance_trend", start="1990-01")
        assert error["start"] == ["统计期间最长为 120 个月：请选择较晚的开始月份"]


class TestRankingAndTrend:
    def test_ranking_by_on_time_rate(self, city):
        body = city["ecology_staff"].ok("yantai_compliance_ranking", **PERIOD)
        assert [(d["rank"], d["organization"], d["on_time_rate"]) for d in body["departments"]] \
            == [(1, "ythb", 1.0), (2, "ytsj", 0.5)]

    def test_monthly_trend_with_empty_months(self, city):
        body = city["market_staff"].ok("yantai_compliance_trend", organization="ytsj",
                                       start="2026-08", end="2026-10")
        assert [(m["month"], m["records"], m["on_time"], m["late"], m["overdue"])
                for m in body["months"]] == [("2026-08", 0, 0, 0, 0), ("2026-09", 4, 2, 1, 1),
                                             ("2026-10", 2, 1, 1, 0)]


class TestDrillDown:
    def test_records_behind_a_figure(self, city):
        staff = city["market_staff"]
        invalid = staff.ok("yantai_compliance_records", organization="ytsj",
                           error="uscc_checksum")
        assert invalid["count"] == 1
        [row] = invalid["results"]
        assert row["errors"][0]["message"] == "统一社会信用代码校验位错误（GB 32100-2015）"
        assert (row["timeliness"], row["public"]) == ("overdue", False)
        late = staff.ok("yantai_compliance_records", organization="ytsj", late_days="2-3")
        assert [r["working_days_late"] for r in late["results"]] == [3]
        october = staff.ok("yantai_compliance_records", organization="ytsj", month="2026-10")
        assert october["count"] == 2

    def test_values_are_masked_for_staff_too(self, city):
        body = city["market_staff"].ok("yantai_compliance_records", organization="ytsj")
        assert ADULT_ID not in str(body)
        assert all(r["fields"]["法定代表人证件号码"].count("*") == 8 for r in body["results"]
                   if r["fields"]["法定代表人证件号码"])

    def test_bad_filters(self, city):
        error = city["market_staff"].errors("yantai_compliance_records", organization="ytsj",
                                            timeliness="soon", limit="many")
        assert "timeliness" in error and error["limit"] == ["请填写 1 至 1000 之间的整数"]
        error = city["market_staff"].errors("yantai_compliance_records", organization="ytsj",
                                            offset=10 ** 30, valid="maybe", month="0001-01")
        assert set(error) == {"__type", "offset", "valid", "month"}, error


class TestPages:
    def test_city_dashboard_for_the_data_authority(self, app, city):
        page = app.get("/compliance?start=2026-09&end=2026-10",
                       headers={"Authorization": city["authority_user"]["token"]})
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "烟台市市场监督管理局" in html and "烟台市生态环境局" in html
        assert 'id="yantai-compliance-data"' in html
        script = re.search(r"/webassets/yantai/[0-9a-f]+_compliance-dashboard.js", html)
        assert script, "the chart bundle is on the page"
        bundle = app.get(script[0]).get_data(as_text=True)
        assert "echarts" in bundle and "yantai-compliance-data" in bundle
        assert "50.0%" in html

    def test_department_dashboard_and_drill_down(self, app, city):
        token = {"Authorization": city["market"]["editor"]["token"]}
        page = app.get("/organization/compliance/ytsj?start=2026-09&end=2026-10", headers=token)
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "统一社会信用代码校验位错误" in html and ADULT_ID not in html
        drill = app.get("/organization/compliance/ytsj/records?timeliness=late", headers=token)
        assert drill.status_code == 200 and "2026〕4号" in drill.get_data(as_text=True)
        other = app.get("/organization/compliance/ythb", headers=token, status=404)
        assert other.status_code == 404

    def test_pages_refuse_citizens_and_send_anonymous_users_to_log_in(self, app, city):
        citizen = app.get("/compliance", status=403,
                          headers={"Authorization": ckan_factories.UserWithToken()["token"]})
        assert citizen.status_code == 403
        anonymous = app.get("/compliance", status=302, follow_redirects=False)
        assert "/user/login" in anonymous.headers["Location"]

    def test_exports(self, app, city):
        token = {"Authorization": city["market"]["editor"]["token"]}
        csv_body = app.get("/compliance/report.csv?start=2026-09&end=2026-10",
                           headers=token).get_data()
        text = csv_body.decode("utf-8")
        assert text.startswith("\ufeff部门,记录数,按时,迟报")
        assert "烟台市市场监督管理局,6,3,2,1,1,0,0,1,0,0,1,0,0.5" in text
        xlsx = app.get("/organization/compliance/ytsj/records.xlsx?valid=false", headers=token)
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:3] == ("类型", "行政相对人名称", "决定文书号")
        assert len(rows) == 2 and "统一社会信用代码校验位错误" in str(rows[1][9])


class TestCli:
    def test_recheck_with_two_workers_and_the_report(self, city, cli, tmp_path):
        from ckan.cli.cli import ckan

        result = cli.invoke(ckan, ["yantai", "compliance", "recheck", "--workers", "2",
                                   "--no-push"])
        assert result.exit_code == 0, result.output
        assert "7 records checked" in result.output
        out = tmp_path / "report.xlsx"
        result = cli.invoke(ckan, ["yantai", "compliance", "report", "--start", "2026-09",
                                   "--end", "2026-10", "--format", "xlsx", "--output", str(out)])
        assert result.exit_code == 0, result.output
        sheet = openpyxl.load_workbook(out).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[-1][:2] == ("合计", 7)

    def test_a_parallel_recheck_finds_what_time_changed(self, city):
        # A year after the September decisions, their 一般 publicity period (1 year) is over.
        counts = recheck.recheck(workers=2, now=shanghai("2027-09-19T09:00:00"))
        assert counts["checked"] == 7
        assert counts["withdrawn"] == 4  # 3 public September records of ytsj, 1 of ythb
        body = call_action("datastore_search", resource_id=city["market"]["resource"]["id"])
        assert body["total"] == 2  # October's
