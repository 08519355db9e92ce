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
    job.status = "Running"  # pyright: ignore[reportAttributeAccessIssue]  # untyped harvest model
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
    kept = model.Package.get(source["id"])
    assert kept is not None and kept.state == "active"


# -- who sees a harvest source: its department and sysadmins, on every channel ---------------------

CANARY = "canarysource7q"  # in the source's title, name and URL (an internal host)


@pytest.fixture
def hidden_source(app):
    from ckanext.harvest.model import HarvestObject, HarvestSource

    sysadmin = ckan_factories.SysadminWithToken()
    own, other = ckan_factories.UserWithToken(), ckan_factories.UserWithToken()
    org = factories.Organization(users=[{"name": own["name"], "capacity": "editor"}])
    factories.Organization(users=[{"name": other["name"], "capacity": "editor"}])
    created = call_action("harvest_source_create", context={"user": sysadmin["name"]},
                          name=f"src-{CANARY}", title=f"Source {CANARY}",
                          url=f"http://1.2.3.4/{CANARY}/manifest.json",
                          source_type="yantai_release", owner_org=org["id"])
    job = call_action("harvest_job_create", context={"ignore_auth": True},
                      source_id=created["id"])
    obj = HarvestObject(guid="g1", job=model.Session.get(HarvestJob, job["id"]), current=True,
                        source=model.Session.get(HarvestSource, created["id"]),
                        content=f'{{"x": "{CANARY}"}}')
    obj.save()
    tokens = {"anonymous": None, "other department": other["token"],
              "own department": own["token"], "sysadmin": sysadmin["token"]}
    return {"id": created["id"], "name": created["name"], "job": job["id"], "obj": obj.id,
            "org": org["id"], "tokens": tokens}


SEES = {"anonymous": False, "other department": False, "own department": True,
        "sysadmin": True}


def _ask(app, token, action, **data):
    headers = {"Authorization": token} if token else {}
    resp = app.post(f"/api/3/action/{action}", json=data, headers=headers, status=None)
    return resp.status_code, resp.get_data(as_text=True)


def _same_as_missing(app, token, action, refs: dict[str, str], **data):
    """The answer for the source's refs equals the answer for refs that do not exist."""
    import uuid

    fresh = {key: str(uuid.uuid4()) for key in refs}
    status, body = _ask(app, token, action, **{**data, **refs})
    missing_status, missing_body = _ask(app, token, action, **{**data, **fresh})
    for key in refs:
        body = body.replace(refs[key], f"<{key}>")
        missing_body = missing_body.replace(fresh[key], f"<{key}>")
    assert (status, body) == (missing_status, missing_body), action
    assert status < 500 and CANARY not in body, (action, body)


def test_sources_are_listed_and_found_only_by_their_department(app, hidden_source):
    src = hidden_source
    for role, token in src["tokens"].items():
        lists = {
            "harvest_source_list": _ask(app, token, "harvest_source_list"),
            "harvest_source_list by department": _ask(app, token, "harvest_source_list",
                                                      organization_id=src["org"]),
            "package_search fq": _ask(app, token, "package_search",
                                      fq="dataset_type:harvest", include_private=True),
            "package_search q": _ask(app, token, "package_search", q="type:harvest"),
            "package_search text": _ask(app, token, "package_search", q=CANARY,
                                        include_private=True),
            "package_search all types": _ask(app, token, "package_search", rows=1000,
                                             fq="+dataset_type:*", include_private=True),
            "package_list": _ask(app, token, "package_list"),
            "recently_changed_packages_activity_list": _ask(
                app, token, "recently_changed_packages_activity_list"),
            "organization_activity_list": _ask(app, token, "organization_activity_list",
                                               id=src["org"]),
        }
        for channel, (status, body) in lists.items():
            assert status == 200, (role, channel, body)
            if not SEES[role]:
                assert CANARY not in body, (role, channel)
        if SEES[role]:
            for channel in ("harvest_source_list", "harvest_source_list by department",
                            "package_search fq"):
                assert CANARY in lists[channel][1], (role, channel)


def test_a_source_reads_as_missing_to_others(app, hidden_source):
    src = hidden_source
    for role, token in src["tokens"].items():
        if SEES[role]:
            for action, data in (("harvest_source_show", {"id": src["id"]}),
                                 ("package_show", {"id": src["name"]}),
                                 ("harvest_source_show_status", {"id": src["id"]}),
                                 ("package_activity_list", {"id": src["id"]}),
                                 ("harvest_job_list", {"source_id": src["id"]}),
                                 ("harvest_job_show", {"id": src["job"]}),
                                 ("harvest_object_show", {"id": src["obj"]})):
                status, body = _ask(app, token, action, **data)
                assert status == 200, (role, action, body)
            continue
        for action, key in (("harvest_source_show", "id"), ("package_show", "id"),
                            ("harvest_source_show_status", "id"),
                            ("package_activity_list", "id"), ("dcat_dataset_show", "id"),
                            ("harvest_source_update", "id"), ("harvest_source_patch", "id"),
                            ("harvest_source_delete", "id"), ("harvest_source_clear", "id"),
                            ("harvest_source_reindex", "id"), ("package_patch", "id"),
                            ("harvest_job_create", "source_id"),
                            ("harvest_job_list", "source_id"),
                            ("harvest_object_list", "source_id")):
            _same_as_missing(app, token, action, {key: src["id"]})
        _same_as_missing(app, token, "harvest_source_show", {"id": src["name"]})
        _same_as_missing(app, token, "harvest_job_show", {"id": src["job"]})
        _same_as_missing(app, token, "harvest_job_report", {"id": src["job"]})
        _same_as_missing(app, token, "harvest_object_show", {"id": src["obj"]})


def test_the_harvest_log_is_for_sysadmins(app, hidden_source):
    for role, token in hidden_source["tokens"].items():
        status, body = _ask(app, token, "harvest_log_list")
        assert status == (200 if role == "sysadmin" else 403), (role, body)


def test_harvest_pages_read_as_missing_to_others(app, hidden_source):
    import uuid

    src = hidden_source
    missing = str(uuid.uuid4())
    for role, token in src["tokens"].items():
        headers = {"Authorization": token} if token else {}
        listing = app.get("/harvest/", headers=headers, status=None).get_data(as_text=True)
        assert (CANARY in listing) == SEES[role], role
        for path in ("/harvest/{}", "/harvest/about/{}", "/harvest/admin/{}", "/harvest/{}/job",
                     "/harvest/edit/{}", "/dataset/activity/{}", "/dataset/{}.ttl"):
            page = app.get(path.format(src["name"]), headers=headers, status=None)
            if SEES[role]:
                continue
            absent = app.get(path.format(missing), headers=headers, status=None)
            assert page.status_code == absent.status_code, (role, path)
            # (the page repeats the address asked for, with the source's name)
            text = page.get_data(as_text=True).replace(src["name"], "<asked>")
            assert CANARY not in text, (role, path)
        if not SEES[role]:
            for path in ("/harvest/object/{}", f"/harvest/{src['name']}/job/{{}}"):
                page = app.get(path.format(src["obj"] if "object" in path else src["job"]),
                               headers=headers, status=None)
                absent = app.get(path.format(missing), headers=headers, status=None)
                assert page.status_code == absent.status_code, (role, path)
                text = page.get_data(as_text=True).replace(src["name"], "<asked>")
                assert CANARY not in text, (role, path)
        catalogue = app.get("/catalog.ttl", headers=headers, status=None).get_data(as_text=True)
        assert CANARY not in catalogue or SEES[role], role
