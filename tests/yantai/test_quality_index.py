"""Quality on the real stack: indexed (filter, sort), on the dataset page, summed per department."""
from __future__ import annotations

import datetime as dt

import ckan.model as model
import pytest
from ckan.lib import search
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from freezegun import freeze_time

from tests import factories
from tests.yantai.feeds import allow

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


def add_resource(dataset_id: str, fmt: str = "CSV") -> dict:
    return call_action("resource_create", context={"user": ckan_factories.Sysadmin()["name"]},
                       package_id=dataset_id, name=f"数据 {fmt}",
                       url=f"http://example.com/data.{fmt.lower()}", format=fmt)


@pytest.fixture
def department():
    org = factories.Organization(name="ytjtysj", title="烟台市交通运输局")
    good = factories.Dataset(owner_org=org["id"], tags=[{"name": "公交"}],
                             release_date="2026-01-01", temporal_start="2025-01-01",
                             temporal_end="2026-10-31")
    add_resource(good["id"])
    poor = factories.Dataset(owner_org=org["id"])
    add_resource(poor["id"], "PDF")
    # a licence stored before the licence rules (it no longer passes validation)
    stored = model.Package.get(poor["id"])
    assert stored is not None
    stored.license_id = "other-closed"
    model.Session.commit()
    search.rebuild(poor["id"])
    return org, good, poor


def scores(**params) -> list[tuple[str, int]]:
    found = call_action("package_search", fl=["id", "quality_score"], **params)["results"]
    return [(d["id"], d["quality_score"]) for d in found]


def test_scores_are_indexed_and_sortable(department):
    _, good, poor = department
    ranked = scores(sort="quality_score desc")
    assert [i for i, _ in ranked] == [good["id"], poor["id"]]
    assert ranked[0][1] == 100
    assert ranked[1][1] < 70


def test_filter_by_issue_and_by_score(department):
    _, good, poor = department
    assert [i for i, _ in scores(fq="quality_issues:licence_not_open")] == [poor["id"]]
    assert [i for i, _ in scores(fq="quality_score:[90 TO *]")] == [good["id"]]


def test_department_summary(department):
    org, _, _ = department
    summary = call_action("yantai_quality_summary", organization=org["name"])
    assert len(summary) == 1
    line = summary[0]
    assert line["organization"] == org["name"] and line["datasets"] == 2
    assert line["issues"] == {"incomplete": 1, "licence_not_open": 1, "not_machine_readable": 1}
    poor_score = scores(fq="quality_issues:licence_not_open")[0][1]
    assert line["average_score"] == round((100 + poor_score) / 2, 1)


def test_summary_refuses_a_bad_department_name(app):
    resp = app.get("/api/3/action/yantai_quality_summary",
                   query_string={"organization": 'x" OR *:*'}, status=409)
    assert resp.json["error"]["organization"] == ["必须是部门的网址名称"]


def test_summary_counts_only_what_the_caller_can_see(department, app):
    org, _, _ = department
    factories.Dataset(owner_org=org["id"], private=True)
    anonymous = app.get("/api/3/action/yantai_quality_summary").json["result"]
    assert anonymous[0]["datasets"] == 2
    assert call_action("yantai_quality_summary")[0]["datasets"] == 3


def test_dataset_page_shows_score_and_reasons(department, app):
    _, good, poor = department
    html = app.get(f"/dataset/{poor['name']}").body
    assert 'id="dataset-quality"' in html
    assert "非开放许可" in html and "资源非机器可读格式" in html
    assert "各项质量检查均已通过。" in app.get(f"/dataset/{good['name']}").body


def test_department_page_shows_the_average(department, app):
    org, _, _ = department
    html = app.get(f"/organization/{org['name']}").body
    assert 'id="department-quality"' in html and "平均元数据质量" in html


def test_freshness_is_refreshed_by_the_daily_command(department, cli):
    from ckan.cli.cli import ckan

    _, good, _ = department
    assert scores(fq="quality_issues:update_overdue") == []
    later = dt.datetime.now() + dt.timedelta(days=70)
    with freeze_time(later):
        result = cli.invoke(ckan, ["yantai", "refresh-quality"])
        assert result.exit_code == 0, result.output
        assert "re-indexed" in result.output
    overdue = [i for i, _ in scores(fq="quality_issues:update_overdue")]
    assert good["id"] in overdue


def test_unreachable_resources_lower_the_score(department, cli, monkeypatch):
    """A linked resource that answers 404 on a real server, found by the check command."""
    import http.server
    import threading

    from ckan.cli.cli import ckan

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):  # noqa: N802
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    allow(monkeypatch, f"127.0.0.1:{httpd.server_address[1]}",
          key="ckanext.yantai.linkcheck.allowed_hosts")  # that server's port, nothing else
    try:
        _, good, _ = department
        res = call_action("package_show", id=good["id"])["resources"][0]
        call_action("resource_patch", context={"user": ckan_factories.Sysadmin()["name"]},
                    id=res["id"], url=f"http://127.0.0.1:{httpd.server_address[1]}/gone.csv")
        result = cli.invoke(ckan, ["yantai", "check-resources", good["id"]])
    finally:
        httpd.shutdown()
    assert result.exit_code == 0, result.output
    assert f"unreachable {good['id']} {res['id']}: HTTP 404" in result.output
    assert [i for i, _ in scores(fq="quality_issues:unreachable")] == [good["id"]]
    assert scores(fq=f"id:{good['id']}")[0][1] == 85


@pytest.mark.ckan_config("ckanext.yantai.linkcheck.on_update", "true")
def test_a_change_queues_a_check_that_a_worker_runs(department):
    import os
    import subprocess
    import sys

    import ckan.plugins.toolkit as tk
    from ckan.lib.jobs import get_queue

    _, good, _ = department
    get_queue().empty()
    call_action("package_patch", context={"user": ckan_factories.Sysadmin()["name"]},
                id=good["id"], notes="更新说明")
    jobs = call_action("job_list", context={"ignore_auth": True})
    assert [j["title"] for j in jobs] == [f"check resources of {good['name']}"]
    worker = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ckan"), "-c", tk.config["__file__"],
         "jobs", "worker", "--burst"], capture_output=True, text=True, timeout=180)
    assert worker.returncode == 0, worker.stderr
    from ckan import model

    from ckanext.yantai.model import ResourceCheck

    model.Session.expire_all()
    res_id = call_action("package_show", id=good["id"])["resources"][0]["id"]
    check = model.Session.get(ResourceCheck, res_id)
    # example.com resolves to a public address; whatever it answers, the check was recorded.
    assert check is not None and check.checked_at is not None
