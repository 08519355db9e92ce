"""The access tiers on every channel: channel × tier × role, with canaries.

Nine datasets (every open type × share type) each carry a unique metadata canary (title, name,
notes, tag, resource names) and a unique data canary (an uploaded file's content, a linked
resource's URL, DataStore rows and column, harvested raw content). Eight roles ask every channel.
Each cell asserts that a canary reaches the role exactly when the policy (written out below,
independently of the code's rules) allows it, and that refusals read like absence.
"""
from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import ckan.model as model
import ckan.plugins
import ckan.plugins.toolkit as tk
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from werkzeug.datastructures import FileStorage

from ckanext.yantai import domains
from tests import factories

OPEN_TYPES = ("open", "conditional", "closed")
SHARE_TYPES = ("unconditional", "conditional", "none")
ROLES = ("anonymous", "public", "applicant", "government", "share_grantee", "department",
         "reviewer", "sysadmin")
GOVERNMENT = {"government", "share_grantee", "department", "reviewer"}


def policy_metadata(open_type: str, share_type: str, role: str) -> bool:
    """Who may know the dataset exists (the issue's rules, written out)."""
    if open_type in ("open", "conditional") or role in ("department", "sysadmin", "reviewer"):
        return True
    if share_type == "unconditional":
        return role in GOVERNMENT
    if share_type == "conditional":
        return role == "share_grantee"  # approved share request
    return False


def policy_data(open_type: str, share_type: str, role: str) -> bool:
    """Who may have the data."""
    if open_type == "open" or role in ("department", "sysadmin"):
        return True
    if share_type == "unconditional" and role in GOVERNMENT:
        return True
    if share_type == "conditional" and role == "share_grantee":
        return True
    return open_type == "conditional" and role == "applicant"


@dataclass
class Ds:
    index: int
    open_type: str
    share_type: str
    id: str = ""
    name: str = ""
    upload_id: str = ""
    link_id: str = ""
    harvest_object_id: str = ""
    view_id: str = ""
    table_view_id: str = ""
    activity_id: str = ""

    @property
    def meta(self) -> str:
        return f"metacanary{self.index}q"

    @property
    def data(self) -> str:
        return f"datacanary{self.index}q"


@dataclass
class World:
    datasets: list[Ds]
    tokens: dict[str, str | None]
    users: dict[str, str]
    org: dict[str, Any]
    group: str
    creator: str
    cells: list[int] = field(default_factory=lambda: [0])


def _content(ds: Ds) -> bytes:
    return f"名称,说明\n{ds.data},数据内容\n".encode()


def _harvest_object(ds: Ds, source_pkg: dict[str, Any]) -> str:
    from ckanext.harvest.model import HarvestJob, HarvestObject, HarvestSource

    source = model.Session.get(HarvestSource, source_pkg["id"])
    job = HarvestJob(source=source)
    job.save()
    obj = HarvestObject(guid=f"guid-{ds.index}", job=job, package_id=ds.id, current=True,
                        content=json.dumps({"title": ds.meta, "url": f"http://x/{ds.data}"}))
    obj.save()
    return cast(str, obj.id)


@pytest.fixture(scope="module")
def world(reset_db, migrate_db_for, reset_index) -> World:
    ckan.plugins.load_all()
    reset_db()
    for plugin in ("activity", "harvest", "yantai"):
        migrate_db_for(plugin)
    reset_index()
    from ckanext.datastore.backend.postgres import get_write_engine
    from ckanext.datastore.tests.helpers import clear_db
    from sqlalchemy import orm

    clear_db(orm.scoped_session(orm.sessionmaker(bind=get_write_engine())))
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    domains.ensure_groups(site_user)

    users = {role: ckan_factories.UserWithToken() for role in ROLES if role != "anonymous"}
    sysadmin = ckan_factories.SysadminWithToken()
    users["sysadmin"] = sysadmin
    owner = factories.Organization(name="owner-dept", users=[
        {"name": users["department"]["name"], "capacity": "admin"}])
    factories.Organization(name="other-dept", users=[
        {"name": users["government"]["name"], "capacity": "member"}])
    factories.Organization(name="third-dept", users=[
        {"name": users["share_grantee"]["name"], "capacity": "editor"}])
    factories.Organization(name="ytdsjj", users=[
        {"name": users["reviewer"]["name"], "capacity": "editor"}])

    source_pkg = call_action("harvest_source_create", context={"user": sysadmin["name"]},
                             name="matrix-source", title="Matrix source",
                             url="http://1.2.3.4/feed", source_type="ckan",
                             owner_org=owner["id"], config=json.dumps({"yantai": {
                                 "open_type": "open", "share_type": "unconditional"}}))
    creator = sysadmin["name"]
    datasets = []
    for index, (open_type, share_type) in enumerate(itertools.product(OPEN_TYPES, SHARE_TYPES)):
        ds = Ds(index, open_type, share_type)
        extra = {}
        if open_type == "conditional":
            extra["open_condition"] = "需签署安全承诺书"
        if share_type != "unconditional":
            extra["share_condition"] = "按需共享"
        created = factories.Dataset(
            owner_org=owner["id"], name=f"ds-{ds.meta}", title=f"数据集 {ds.meta}",
            notes=f"说明 {ds.meta}", tags=[{"name": ds.meta}], open_type=open_type,
            share_type=share_type, user=sysadmin, **extra)
        ds.id, ds.name = created["id"], created["name"]
        ctx = {"user": creator}
        upload = call_action("resource_create", context=dict(ctx), package_id=ds.id,
                             name=f"文件 {ds.meta}", format="CSV",
                             upload=FileStorage(io.BytesIO(_content(ds)), filename="data.csv"))
        ds.upload_id = upload["id"]
        link = call_action("resource_create", context=dict(ctx), package_id=ds.id,
                           name=f"链接 {ds.meta}", format="CSV",
                           url=f"http://data.example.com/{ds.data}.csv")
        ds.link_id = link["id"]
        call_action("datastore_create", context=dict(ctx), resource_id=ds.upload_id, force=True,
                    fields=[{"id": f"col_{ds.data}", "type": "text"}],
                    records=[{f"col_{ds.data}": f"烟台市数据 row {ds.data}"}])
        ds.table_view_id = next(
            v["id"] for v in call_action("resource_view_list", id=ds.upload_id)
            if v["view_type"] == "datatables_view")
        ds.harvest_object_id = _harvest_object(ds, source_pkg)
        ds.view_id = call_action("resource_view_create", context=dict(ctx),
                                 resource_id=ds.link_id, title=f"视图 {ds.meta}",
                                 view_type="image_view")["id"]
        ds.activity_id = call_action("package_activity_list", context={"user": creator},
                                     id=ds.id)[-1]["id"]  # the creation
        datasets.append(ds)

    # The workflow grants: the applicant for every 有条件开放 dataset, the share grantee for
    # every 有条件共享 one; decided by the owning department's admin.
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    for ds in datasets:
        for role, wanted in (("applicant", ds.open_type == "conditional"),
                             ("share_grantee", ds.share_type == "conditional"
                                               and ds.open_type != "open")):
            if not wanted:
                continue
            req = call_action("yantai_access_request_create",
                              context={"user": users[role]["name"], "ignore_auth": False},
                              package_id=ds.id, purpose="研究", intended_use="统计分析",
                              applicant_organization="某单位",
                              period_start=dt.date.today().isoformat(),
                              period_end=(dt.date.today() + dt.timedelta(days=60)).isoformat(),
                              commitment_accepted=True)
            call_action("yantai_access_request_decide",
                        context={"user": users["department"]["name"], "ignore_auth": False},
                        id=req["id"], decision="approve", expires=expires)
    for role in ROLES:
        if role not in ("anonymous",):
            call_action("follow_group", context={"user": users[role]["name"]}, id=owner["id"])
    tokens: dict[str, str | None] = {role: users[role]["token"] for role in users}
    tokens["anonymous"] = None
    # The datasets' domain (factories: transport) is a group of the same name.
    return World(datasets, tokens, {r: users[r]["name"] for r in users}, owner, "transport",
                 creator)


# -- asking ----------------------------------------------------------------------------------------

class Client:
    """Asks as one role; remembers what it asked, since answers may echo it."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.app = app
        self.headers = {"Authorization": token} if token else {}
        self.asked: list[str] = []

    def api(self, action: str, **data: Any) -> str:
        self.asked = [v for v in data.values() if isinstance(v, str)]
        return self.app.post(f"/api/3/action/{action}", json=data, headers=self.headers,
                             status=None).get_data(as_text=True)

    def page(self, url: str) -> str:
        self.asked = [part for part in re.split(r"[/?=&.]", url) if len(part) > 4]
        return self.app.get(url, headers=self.headers, status=None).get_data(as_text=True)

    def form(self, url: str, data: dict[str, str]) -> str:
        self.asked = [part for part in re.split(r"[/?=&.]", url) if len(part) > 4]
        return self.app.post(url, data=data, headers=self.headers, status=None,
                             follow_redirects=True).get_data(as_text=True)

    def without_echo(self, text: str) -> str:
        """The answer without what the request itself carried (an id in the URL is no leak)."""
        for asked in sorted(self.asked, key=len, reverse=True):
            text = text.replace(asked, "<asked>")
        return text


Channel = Callable[[Client, World, Ds], str]
# Channels asked once per role for all datasets (lists), and once per dataset (objects).
LIST_CHANNELS: dict[str, tuple[Callable[[Client, World], str], set[str]]] = {
    "package_search q": (lambda c, w: "".join(
        c.api("package_search", q=ds.meta) for ds in w.datasets), {"meta", "data"}),
    "package_search all": (lambda c, w: c.api("package_search", rows=100,
                                              include_private=True), {"meta", "data"}),
    # Facets on resource URLs or names are refused before Solr (search_limits): see
    # test_facets_on_data_fields_are_refused.
    "package_search facets": (lambda c, w: c.api(
        "package_search", rows=0, **{"facet.field": ["tags"], "facet.limit": -1}), {"meta"}),
    "package_search fl": (lambda c, w: c.api(
        "package_search", rows=100, fl=["id", "validated_data_dict", "data_dict", "res_url",
                                        "title"]), {"meta", "data"}),
    "package_search url probe": (lambda c, w: "".join(
        c.api("package_search", q=f"res_url:*{ds.data}* OR urls:{ds.data} OR text:{ds.data}",
              fl=["id"]).replace(ds.id, ds.meta + ds.data)
        for ds in w.datasets), set()),
    "package_list": (lambda c, w: c.api("package_list"), {"meta"}),
    "current_package_list_with_resources": (lambda c, w: c.api(
        "current_package_list_with_resources", limit=100), {"meta", "data"}),
    "package_autocomplete": (lambda c, w: c.api("package_autocomplete", q="metacanary",
                                                limit=100), {"meta"}),
    "tag_list": (lambda c, w: c.api("tag_list"), {"meta"}),
    "tag_list all_fields": (lambda c, w: c.api("tag_list", all_fields=True), {"meta"}),
    "tag_autocomplete": (lambda c, w: c.api("tag_autocomplete", q="metacanary", limit=100),
                         {"meta"}),
    "tag_search": (lambda c, w: c.api("tag_search", query="metacanary", limit=100), {"meta"}),
    # ids only: checked for the ids of datasets the role may not know
    "member_list": (lambda c, w: c.api("member_list", id=w.org["id"], object_type="package"),
                    set()),
    # the dataset lists of groups carry no resources
    "organization_show": (lambda c, w: c.api("organization_show", id=w.org["id"],
                                             include_datasets=True), {"meta"}),
    "group_show": (lambda c, w: c.api("group_show", id=w.group, include_datasets=True),
                   {"meta"}),
    "organization_activity_list": (lambda c, w: c.api(
        "organization_activity_list", id=w.org["id"], limit=100), {"meta", "data"}),
    "recently_changed_packages_activity_list": (lambda c, w: c.api(
        "recently_changed_packages_activity_list", limit=100), {"meta", "data"}),
    "user_activity_list": (lambda c, w: c.api("user_activity_list", id=w.creator, limit=100),
                           set()),
    "dashboard_activity_list": (lambda c, w: c.api("dashboard_activity_list", limit=100),
                                set()),
    "resource_search": (lambda c, w: c.api("resource_search", query="name:canary"), set()),
    "datastore _table_metadata": (lambda c, w: c.api(
        "datastore_search", resource_id="_table_metadata", limit=1000), set()),
    "web: dataset search": (lambda c, w: c.page(f"/dataset/?organization={w.org['name']}"),
                            {"meta"}),
    "web: organization page": (lambda c, w: c.page(f"/organization/{w.org['name']}"),
                               {"meta"}),
    "web: group page": (lambda c, w: c.page(f"/group/{w.group}"), {"meta"}),
    "web: home page": (lambda c, w: c.page("/"), set()),
    "feed: datasets": (lambda c, w: c.page("/feeds/dataset.atom"), {"meta"}),
    "feed: organization": (lambda c, w: c.page(f"/feeds/organization/{w.org['name']}.atom"),
                           {"meta"}),
    "feed: custom": (lambda c, w: c.page(f"/feeds/custom.atom?organization={w.org['name']}"),
                     {"meta"}),
    "dcat: catalogue ttl": (lambda c, w: c.page("/catalog.ttl"), {"meta", "data"}),
    "dcat: catalogue xml": (lambda c, w: c.page("/catalog.xml"), {"meta", "data"}),
    "dcat: catalogue jsonld": (lambda c, w: c.page("/catalog.jsonld"), {"meta", "data"}),
    "dcat: catalog_search": (lambda c, w: c.api("dcat_catalog_search", format="ttl"),
                             {"meta", "data"}),
    "harvest_source_list": (lambda c, w: c.api("harvest_source_list"), set()),
}


def _activity(c: Client, w: World, ds: Ds) -> str:
    return c.api("activity_show", id=ds.activity_id, include_data=True)


OBJECT_CHANNELS: dict[str, tuple[Channel, set[str], str]] = {
    # name: (ask, canaries shown to allowed roles, who must be allowed: "meta" or "data")
    "package_show": (lambda c, w, ds: c.api("package_show", id=ds.id), {"meta", "data"}, "meta"),
    "package_show by name": (lambda c, w, ds: c.api("package_show", id=ds.name),
                             {"meta", "data"}, "meta"),
    "resource_show upload": (lambda c, w, ds: c.api("resource_show", id=ds.upload_id),
                             {"meta"}, "meta"),
    "resource_show link": (lambda c, w, ds: c.api("resource_show", id=ds.link_id),
                           {"meta", "data"}, "meta"),
    "resource_view_list": (lambda c, w, ds: c.api("resource_view_list", id=ds.upload_id),
                           set(), "meta"),
    "package_activity_list": (lambda c, w, ds: c.api("package_activity_list", id=ds.id),
                              {"meta", "data"}, "meta"),
    # activity details are for editors (ckan.auth.public_activity_stream_detail = false)
    "activity_show": (_activity, set(), "meta"),
    "activity_show without data": (lambda c, w, ds: c.api("activity_show", id=ds.activity_id,
                                                          include_data=False), set(), "meta"),
    "activity_data_show": (lambda c, w, ds: c.api("activity_data_show", id=ds.activity_id),
                           set(), "meta"),
    # asked by the canary itself: leaks only (absence is checked below)
    "tag_show": (lambda c, w, ds: c.api("tag_show", id=ds.meta, include_datasets=True),
                 set(), "meta"),
    "datastore_search": (lambda c, w, ds: c.api("datastore_search", resource_id=ds.upload_id),
                         {"data"}, "data"),
    "datastore_info": (lambda c, w, ds: c.api("datastore_info", id=ds.upload_id), {"data"},
                       "data"),
    "datastore_search_sql": (lambda c, w, ds: c.api(
        "datastore_search_sql", sql=f'SELECT * FROM "{ds.upload_id}"'), {"data"}, "data"),
    # Chinese search over the rows (yantai_datastore), by q and in SQL
    "datastore_search q": (lambda c, w, ds: c.api(
        "datastore_search", resource_id=ds.upload_id, q="烟台市数据"), {"data"}, "data"),
    "datastore_search q per column": (lambda c, w, ds: c.api(
        "datastore_search", resource_id=ds.upload_id, q={f"col_{ds.data}": "台市"}),
                                      {"data"}, "data"),
    "datastore_search_sql q": (lambda c, w, ds: c.api("datastore_search_sql", sql=(
        f'SELECT * FROM "{ds.upload_id}" WHERE _full_text @@ yantai_zh_tsquery(\'烟台\')')),
                               {"data"}, "data"),
    # harvest objects belong to their source, which only its department sees (and sysadmins)
    "harvest_object_show": (lambda c, w, ds: c.api("harvest_object_show",
                                                   id=ds.harvest_object_id), {"data"}, "source"),
    "follow: dataset_follower_count": (lambda c, w, ds: c.api("dataset_follower_count",
                                                              id=ds.id), set(), "meta"),
    "web: dataset page": (lambda c, w, ds: c.page(f"/dataset/{ds.name}"), {"meta", "data"},
                          "meta"),
    "web: resource page": (lambda c, w, ds: c.page(
        f"/dataset/{ds.name}/resource/{ds.link_id}"), {"meta", "data"}, "meta"),
    "web: download": (lambda c, w, ds: c.page(
        f"/dataset/{ds.id}/resource/{ds.upload_id}/download/data.csv"), {"data"}, "data"),
    "web: download via another dataset": (lambda c, w, ds: c.page(
        f"/dataset/{w.datasets[0].id}/resource/{ds.upload_id}/download"), {"data"}, "data"),
    "web: datastore dump": (lambda c, w, ds: c.page(f"/datastore/dump/{ds.upload_id}"),
                            {"data"}, "data"),
    "web: datastore dump json": (lambda c, w, ds: c.page(
        f"/datastore/dump/{ds.upload_id}?format=json&q=%E7%83%9F%E5%8F%B0"), {"data"}, "data"),
    "web: table download csv": (lambda c, w, ds: c.page(
        f"/dataset/{ds.id}/resource/{ds.upload_id}/table.csv"), {"data"}, "data"),
    "web: table download json": (lambda c, w, ds: c.page(
        f"/dataset/{ds.name}/resource/{ds.upload_id}/table.json"), {"data"}, "data"),
    "web: table download via another dataset": (lambda c, w, ds: c.page(
        f"/dataset/{w.datasets[0].id}/resource/{ds.upload_id}/table.csv"), set(), "data"),
    # the data table preview's search box (Chinese, carried through by yantai_datastore)
    "web: data table search": (lambda c, w, ds: c.form(
        f"/datatables/ajax/{ds.table_view_id}",
        {"draw": "1", "start": "0", "length": "10", "search[value]": "烟台市数据"}),
                               {"data"}, "data"),
    "web: data table filtered download": (lambda c, w, ds: c.form(
        f"/datatables/filtered-download/{ds.table_view_id}",
        {"format": "csv", "params": json.dumps({
            "search": {"value": "烟台"}, "order": [], "visible": [True, True],
            "columns": [{"name": "_id", "search": {"value": ""}},
                        {"name": f"col_{ds.data}", "search": {"value": ""}}]})}),
                                          {"data"}, "data"),
    "web: activity page": (lambda c, w, ds: c.page(f"/dataset/activity/{ds.name}"), {"meta"},
                           "meta"),
    "web: resource history": (lambda c, w, ds: c.page(
        f"/dataset/{w.datasets[0].name}/resources/{ds.link_id}/history/{ds.activity_id}"),
                              set(), "data"),
    "web: harvest object": (lambda c, w, ds: c.page(f"/harvest/object/{ds.harvest_object_id}"),
                            {"data"}, "source"),
    "dcat: dataset ttl": (lambda c, w, ds: c.page(f"/dataset/{ds.name}.ttl"), {"meta", "data"},
                          "meta"),
    "dcat: dataset rdf": (lambda c, w, ds: c.page(f"/dataset/{ds.name}.rdf"), {"meta", "data"},
                          "meta"),
    "dcat: dataset jsonld": (lambda c, w, ds: c.page(f"/dataset/{ds.name}.jsonld"),
                             {"meta", "data"}, "meta"),
    "dcat_dataset_show": (lambda c, w, ds: c.api("dcat_dataset_show", id=ds.id, format="ttl"),
                          {"meta", "data"}, "meta"),
}


def _leaks(text: str, ds: Ds, meta_ok: bool, data_ok: bool) -> list[str]:
    found = []
    if not meta_ok:
        found += [t for t in (ds.meta, ds.id) if t in text]
    if not data_ok and ds.data in text:
        found.append(ds.data)
    return found


def _expect(ds: Ds, role: str) -> tuple[bool, bool]:
    return (policy_metadata(ds.open_type, ds.share_type, role),
            policy_data(ds.open_type, ds.share_type, role))


CELLS: dict[str, int] = {}


@pytest.mark.parametrize("channel", sorted(LIST_CHANNELS))
def test_list_channels(app, world, channel):
    ask, shows = LIST_CHANNELS[channel]
    problems = []
    for role in ROLES:
        text = ask(Client(app, world.tokens[role]), world)
        for ds in world.datasets:
            meta_ok, data_ok = _expect(ds, role)
            CELLS[channel] = CELLS.get(channel, 0) + 1
            leaked = _leaks(text, ds, meta_ok, data_ok)
            if leaked:
                problems.append(f"{role} × {ds.open_type}/{ds.share_type}: leaked {leaked}")
            if "meta" in shows and meta_ok and ds.meta not in text:
                problems.append(f"{role} × {ds.open_type}/{ds.share_type}: metadata missing")
            if "data" in shows and data_ok and ds.data not in text:
                problems.append(f"{role} × {ds.open_type}/{ds.share_type}: data missing")
    assert not problems, "\n".join(problems)


SOURCE_ROLES = ("department", "sysadmin")  # who sees the harvest source (its department's)


def _allowed(needs: str, role: str, meta_ok: bool, data_ok: bool) -> bool:
    if needs == "source":
        return role in SOURCE_ROLES and meta_ok and data_ok
    return meta_ok if needs == "meta" else (meta_ok and data_ok)


def _not_found_like(text: str, missing: str) -> bool:
    """A refusal must read as the answer for something that does not exist."""
    return text == missing


@pytest.mark.parametrize("channel", sorted(OBJECT_CHANNELS))
def test_object_channels(app, world, channel):
    ask, shows, needs = OBJECT_CHANNELS[channel]
    problems = []
    for role in ROLES:
        client = Client(app, world.tokens[role])
        for ds in world.datasets:
            meta_ok, data_ok = _expect(ds, role)
            allowed = _allowed(needs, role, meta_ok, data_ok)
            if needs == "source":
                meta_ok, data_ok = meta_ok and allowed, data_ok and allowed
            CELLS[channel] = CELLS.get(channel, 0) + 1
            text = client.without_echo(ask(client, world, ds))
            leaked = _leaks(text, ds, meta_ok, data_ok)
            if leaked:
                problems.append(f"{role} × {ds.open_type}/{ds.share_type}: leaked {leaked}")
            if allowed:
                if "meta" in shows and ds.meta not in text:
                    problems.append(f"{role} × {ds.open_type}/{ds.share_type}: metadata missing")
                if "data" in shows and data_ok and ds.data not in text:
                    problems.append(f"{role} × {ds.open_type}/{ds.share_type}: data missing")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("action,key,refs", [
    ("package_show", "id", lambda ds: [ds.id, ds.name]),
    ("datastore_search", "resource_id", lambda ds: [ds.upload_id]),
    ("datastore_info", "id", lambda ds: [ds.upload_id]),
    ("resource_show", "id", lambda ds: [ds.upload_id]),
    ("package_activity_list", "id", lambda ds: [ds.id]),
    ("harvest_object_show", "id", lambda ds: [ds.harvest_object_id]),
    ("tag_show", "id", lambda ds: [ds.meta]),
])
def test_refusals_read_like_absence(app, world, action, key, refs):
    """What a role may not see answers exactly as something that does not exist (same status,
    same body once the asked-for id is replaced)."""
    checked = 0
    for role in ROLES:
        client = Client(app, world.tokens[role])
        for ds in world.datasets:
            meta_ok, data_ok = _expect(ds, role)
            allowed = _allowed("source" if action.startswith("harvest") else
                               "data" if action.startswith("datastore") else "meta",
                               role, meta_ok, data_ok)
            if allowed:
                continue
            for ref in refs(ds):
                missing_ref = f"missing-{uuid.uuid4()}"
                refused = client.api(action, **{key: ref}).replace(ref, "<ref>")
                missing = client.api(action, **{key: missing_ref}).replace(missing_ref, "<ref>")
                assert refused == missing, (role, ds.open_type, ds.share_type)
                checked += 1
    assert checked > 0
    CELLS[f"absence: {action}"] = checked


def test_department_counts(app, world):
    """Counts (search, facets, organization pages) count only what the role may see."""
    for role in ROLES:
        client = Client(app, world.tokens[role])
        expected = sum(policy_metadata(ds.open_type, ds.share_type, role)
                       for ds in world.datasets)
        search = json.loads(client.api("package_search", fq=f"owner_org:{world.org['id']}",
                                       rows=0, **{"facet.field": ["organization"]}))["result"]
        assert search["count"] == expected, role
        assert search["facets"]["organization"].get(world.org["name"], 0) == expected, role
        shown = json.loads(client.api("organization_show", id=world.org["id"]))["result"]
        assert shown["package_count"] == expected, role
        listed = json.loads(client.api("organization_list", all_fields=True,
                                       sort="package_count desc"))["result"]
        counts = {o["name"]: o["package_count"] for o in listed}
        assert counts[world.org["name"]] == expected, role
        CELLS["counts"] = CELLS.get("counts", 0) + 4 * len(world.datasets)


# -- write channels: a dataset the caller may not know of answers as one that does not exist -------

# Every action of CKAN, its DataStore, activity, harvest and our plugins that names a dataset, a
# resource, a view or a harvest object (refs in braces: {pkg} id, {name}, {res} resource, {view},
# {obj} harvest object; {other} a dataset everyone sees, {org} its department, {group} a group).
WRITE_CHANNELS: dict[str, dict[str, Any]] = {
    "package_patch": {"id": "{pkg}", "title": "x"},
    "package_patch by name": {"id": "{name}", "title": "x"},
    "package_patch bad field": {"id": "{pkg}", "open_type": ["open"]},
    "package_update": {"id": "{pkg}", "name": "x"},
    "package_update by name": {"name": "{name}"},
    "package_delete": {"id": "{pkg}"},
    "dataset_purge": {"id": "{pkg}"},
    "package_revise": {"match": {"id": "{pkg}"}, "update": {"title": "x"}},
    "package_revise by name": {"match": {"name": "{name}"}, "update": {"title": "x"}},
    "package_owner_org_update": {"id": "{pkg}", "organization_id": "{org}"},
    "package_resource_reorder": {"id": "{pkg}", "order": ["{res}"]},
    "package_create_default_resource_views": {"package": {"id": "{pkg}"}},
    "resource_create_default_resource_views": {"resource": {"id": "{res}"},
                                               "package": {"id": "{pkg}"}},
    "resource_create": {"package_id": "{pkg}", "url": "http://a.example/b"},
    "resource_update": {"id": "{res}", "url": "http://a.example/b"},
    "resource_patch": {"id": "{res}", "name": "x"},
    "resource_delete": {"id": "{res}"},
    "resource_view_create": {"resource_id": "{res}", "title": "t", "view_type": "image_view"},
    "resource_view_create bad field": {"resource_id": "{res}", "view_type": "image_view"},
    "resource_view_update": {"id": "{view}", "title": "t"},
    "resource_view_update bad field": {"id": "{view}", "title": ""},
    "resource_view_delete": {"id": "{view}"},
    "resource_view_reorder": {"id": "{res}", "order": ["{view}"]},
    "resource_view_list": {"id": "{res}"},
    "resource_view_show": {"id": "{view}"},
    "datastore_create": {"resource_id": "{res}", "records": [{"a": 1}], "force": True},
    "datastore_create new resource": {"resource": {"package_id": "{pkg}"}, "force": True},
    "datastore_upsert": {"resource_id": "{res}", "records": [{"a": 1}], "force": True,
                         "method": "insert"},
    "datastore_upsert by id": {"id": "{res}", "records": [{"a": 1}], "force": True},
    "datastore_delete": {"resource_id": "{res}", "force": True},
    "datastore_records_delete": {"resource_id": "{res}", "filters": {}, "force": True},
    "datastore_search": {"resource_id": "{res}"},
    "datastore_info": {"id": "{res}"},
    "yantai_datastore_submit": {"resource_id": "{res}"},
    "package_relationships_list": {"id": "{pkg}"},
    "package_relationships_list second": {"id": "{other}", "id2": "{pkg}"},
    "package_relationship_create": {"subject": "{pkg}", "object": "{other}", "type": "child_of"},
    "package_relationship_create object": {"subject": "{other}", "object": "{pkg}",
                                           "type": "child_of"},
    "package_relationship_create bad type": {"subject": "{pkg}", "object": "{other}",
                                             "type": "nonsense"},
    "package_relationship_update": {"subject": "{pkg}", "object": "{other}", "type": "child_of"},
    "package_relationship_delete": {"subject": "{pkg}", "object": "{other}", "type": "child_of"},
    "package_collaborator_list": {"id": "{pkg}"},
    "package_collaborator_create": {"id": "{pkg}", "user_id": "{me}", "capacity": "editor"},
    "package_collaborator_delete": {"id": "{pkg}", "user_id": "{me}"},
    "bulk_update_private": {"datasets": ["{pkg}"], "org_id": "{org}"},
    "bulk_update_public": {"datasets": ["{pkg}"], "org_id": "{org}"},
    "bulk_update_delete": {"datasets": ["{pkg}"], "org_id": "{org}"},
    "member_create": {"id": "{group}", "object": "{pkg}", "object_type": "package",
                      "capacity": "public"},
    "member_delete": {"id": "{group}", "object": "{pkg}", "object_type": "package"},
    "follow_dataset": {"id": "{pkg}"},
    "unfollow_dataset": {"id": "{pkg}"},
    "am_following_dataset": {"id": "{pkg}"},
    "dataset_follower_list": {"id": "{pkg}"},
    "dataset_follower_count": {"id": "{pkg}"},
    "package_activity_list": {"id": "{pkg}"},
    "task_status_update": {"entity_id": "{pkg}", "entity_type": "package", "task_type": "t",
                           "key": "k", "value": "v"},
    "harvest_object_show": {"id": "{obj}"},
    "harvest_object_show by dataset": {"dataset_id": "{pkg}"},
    "dcat_dataset_show": {"id": "{pkg}", "format": "ttl"},
    "yantai_access_request_create": {
        "package_id": "{pkg}", "purpose": "p", "intended_use": "u",
        "applicant_organization": "o", "period_start": "2026-01-01",
        "period_end": "2026-12-31", "commitment_accepted": True},
}
# anonymous, a member of another department, an editor of another department
WRITE_ROLES = ("anonymous", "government", "share_grantee")
REFS = ("pkg", "name", "res", "view", "obj")


def _fill(template: Any, refs: dict[str, str]) -> Any:
    if isinstance(template, str):
        for key, value in refs.items():
            template = template.replace("{" + key + "}", value)
        return template
    if isinstance(template, list):
        return [_fill(t, refs) for t in template]
    if isinstance(template, dict):
        return {k: _fill(v, refs) for k, v in template.items()}
    return template


def _answer(client: Client, action: str, data: dict[str, Any],
            refs: dict[str, str]) -> tuple[int, str]:
    """Status and body, the refs the caller gave replaced by their names."""
    resp = client.app.post(f"/api/3/action/{action}", json=data, headers=client.headers,
                           status=None)
    body = resp.get_data(as_text=True)
    for key in REFS:
        body = body.replace(refs[key], "{" + key + "}")
    return resp.status_code, body


def _refs(ds: Ds) -> dict[str, str]:
    return {"pkg": ds.id, "name": ds.name, "res": ds.upload_id, "view": ds.view_id,
            "obj": ds.harvest_object_id}


def _missing_refs() -> dict[str, str]:
    return {"pkg": str(uuid.uuid4()), "name": f"missing-{uuid.uuid4().hex[:12]}",
            "res": str(uuid.uuid4()), "view": str(uuid.uuid4()), "obj": str(uuid.uuid4())}


def policy_applies_unseen(action: str, share_type: str, role: str) -> bool:
    """A government user may apply by id or name for a dataset shared on conditions (有条件共享)
    while the tiers hide it (as the sharing catalogue lists it; the rule of issue 4): the
    request is filed, and its answer names nothing of the dataset the caller did not give."""
    return (action == "yantai_access_request_create" and share_type == "conditional"
            and role in GOVERNMENT)


@pytest.mark.parametrize("channel", sorted(WRITE_CHANNELS))
def test_write_channels_read_like_absence(app, world, channel):
    """Every channel naming a dataset the caller may not know of answers exactly as for an id
    that does not exist: same status, error type and message (no id it was not given)."""
    action = channel.split()[0]
    problems, checked = [], 0
    for role in WRITE_ROLES:
        client = Client(app, world.tokens[role])
        fixed = {"other": world.datasets[0].id, "org": world.org["id"], "group": world.group,
                 "me": world.users.get(role, "nobody")}
        for ds in world.datasets:
            if policy_metadata(ds.open_type, ds.share_type, role):
                continue
            hidden, missing = _refs(ds), _missing_refs()
            refused = _answer(client, action, _fill(WRITE_CHANNELS[channel],
                                                    {**fixed, **hidden}), hidden)
            absent = _answer(client, action, _fill(WRITE_CHANNELS[channel],
                                                   {**fixed, **missing}), missing)
            checked += 1
            if policy_applies_unseen(action, ds.share_type, role):
                if refused[0] != 200 or '"kind": "share"' not in refused[1]:
                    problems.append(f"{role} may apply for {ds.open_type}/{ds.share_type}: "
                                    f"{refused}")
            elif refused != absent:
                problems.append(f"{role} × {ds.open_type}/{ds.share_type}:\n  hidden  {refused}"
                                f"\n  missing {absent}")
            elif refused[0] >= 500:
                problems.append(f"{role}: server error {refused}")
            for secret in (ds.id, ds.upload_id, ds.meta):
                if secret in refused[1]:
                    problems.append(f"{role}: the answer names {secret}")
    assert checked > 0
    CELLS[f"absence (write): {channel}"] = checked
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("action,data", [
    ("package_patch", {"id": "{pkg}", "title": "x"}),
    ("package_delete", {"id": "{pkg}"}),
    ("resource_patch", {"id": "{res}", "name": "x"}),
    ("resource_view_delete", {"id": "{view}"}),
    ("datastore_upsert", {"resource_id": "{res}", "records": [{"a": 1}], "force": True}),
])
def test_who_sees_but_may_not_edit_is_refused(app, world, action, data):
    """A caller who may know the dataset still gets CKAN's refusal (403), not absence."""
    open_ds = world.datasets[0]  # open / unconditional: everyone sees it
    for role in WRITE_ROLES:
        client = Client(app, world.tokens[role])
        status, body = _answer(client, action, _fill(data, _refs(open_ds)), _refs(open_ds))
        assert status == 403, (role, body)
        assert json.loads(body)["error"]["__type"] == "Authorization Error", (role, body)


def test_report_cells():
    """Runs last in this module: how many cells the matrix checked (for the closing note)."""
    total = sum(CELLS.values())
    print(f"\naccess matrix: {total} cells over {len(CELLS)} channels")
    assert total > 0



def test_facets_on_data_fields_are_refused(app):
    """Facet counts of resource URLs or names would list data values whatever the labels say:
    such facets never reach Solr."""
    for name in ("res_url", "urls", "res_name", "validated_data_dict", "text"):
        resp = app.post("/api/3/action/package_search", status=None,
                        json={"rows": 0, "facet.field": ["tags", name], "facet.limit": -1})
        assert resp.status_code == 400 and resp.json["error"]["facet.field"], name
