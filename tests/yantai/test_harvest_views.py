"""ckanext-harvest's pages that change state on a GET ask first: a GET shows a confirmation whose
form POSTs; only the POST re-harvests, clears or stops."""
from __future__ import annotations

import ckan.model as model
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from ckanext.harvest.model import HarvestJob

from tests import factories

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


@pytest.fixture
def source():
    sysadmin = ckan_factories.SysadminWithToken()
    org = factories.Organization()
    created = call_action("harvest_source_create", context={"user": sysadmin["name"]},
                          name="views-source", url="http://1.2.3.4/manifest.json",
                          source_type="yantai_release", owner_org=org["id"])
    return {"id": created["id"], "headers": {"Authorization": sysadmin["token"]}}


def jobs(source_id: str) -> list[HarvestJob]:
    model.Session.expire_all()
    return model.Session.query(HarvestJob).filter_by(source_id=source_id).all()


def test_a_get_asks_and_the_post_reharvests(app, source):
    page = app.get(f"/harvest/refresh/{source['id']}", headers=source["headers"])
    assert page.status_code == 200
    assert "现在为该采集源启动新的采集任务" in page.get_data(as_text=True)
    assert 'method="post"' in page.get_data(as_text=True)
    assert jobs(source["id"]) == []
    app.post(f"/harvest/refresh/{source['id']}", headers=source["headers"],
             follow_redirects=False)
    assert len(jobs(source["id"])) == 1


def test_stopping_a_job_needs_a_post(app, source):
    call_action("harvest_job_create", context={"ignore_auth": True}, source_id=source["id"])
    job = jobs(source["id"])[0]
    job.status = "Running"
    job.save()
    path = f"/harvest/views-source/job/{job.id}/abort"
    page = app.get(path, headers=source["headers"])
    assert "停止该采集任务" in page.get_data(as_text=True)
    assert jobs(source["id"])[0].status == "Running"
    app.post(path, headers=source["headers"], follow_redirects=False)
    assert jobs(source["id"])[0].status == "Finished"


def test_clearing_and_deleting_need_a_post(app, source):
    for path in (f"/harvest/clear/{source['id']}", f"/harvest/delete/{source['id']}",
                 f"/harvest/delete/{source['id']}?clear=True"):
        page = app.get(path, headers=source["headers"])
        assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    model.Session.expire_all()
    assert model.Package.get(source["id"]).state == "active"
