"""Fuzzing the Action API with Hypothesis (issue 13): every ``yantai_*`` action's parameters and
every field of the dataset schema get arbitrary JSON values (and dates at the ends of time,
numbers too large for PostgreSQL, classification markings, the ids of real objects), through the
real API as a sysadmin and as an editor. No answer is a 5xx, and nothing stored carries a
classification marking.

Bounded for ``make test``: a fixed number of examples per test, a per-example deadline, no
shrinking, and ``derandomize`` (the same examples on every run, no example database), so CI runs
are reproducible; a failure prints the example to replay.
"""
from __future__ import annotations

import datetime as dt
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ckanext.yantai import classified
from ckanext.yantai.logic import action as actions
from tests import factories
from tests.api import Api
from tests.yantai.disclosure_records import license, penalty

pytestmark = pytest.mark.usefixtures("clean_datastore")

SCHEMA = pathlib.Path(classified.__file__).parent / "schemas" / "dataset.yaml"

# Every action the plugin registers from logic/action.py (its blanket takes actions.__all__).
ACTIONS = sorted(actions.__all__)
PARAMS = {name: sorted(set(re.findall(r":param (\w+):", getattr(actions, name).__doc__ or "")))
          for name in ACTIONS}


def _schema_fields() -> tuple[list[str], list[str], list[str]]:
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    dataset = [f["field_name"] for f in schema["dataset_fields"]]
    resource = [f["field_name"] for f in schema["resource_fields"]]
    items = [s["field_name"] for f in schema["dataset_fields"] for s in f.get("repeating_subfields",
                                                                              [])]
    return dataset, resource, items


DATASET_FIELDS, RESOURCE_FIELDS, INFO_ITEM_FIELDS = _schema_fields()
# Keys CKAN takes besides the schema's: markings were stored through these too.
EXTRA_DATASET_KEYS = ["tags", "extras", "groups", "state", "private", "tag_string"]

# The classification markings of classified.py's docstring, and the disguises of issue 13.
MARKINGS = [m for m in re.findall(r"``([^`]+)``", classified.__doc__ or "") if classified.rule(m)]
MARKINGS += ["绝密", "机密★", "秘密★10年", "密级：绝密", "绝 密★", "机　密★", "絕密", "機密",
             "密級：機密", "绝\u200b密", "秘密⭐", "密-级：秘密", "绝**密**", "绝&#23494;",
             "绝<!-- -->密", "ＪＵＥ绝密"]
# Strings that once broke an action, or that the rules treat specially.
EDGES = ["", " ", "9999-12-31", "0001-01-01", "2026-09-18", "2026-02-30", "2026-13", "0001-01",
         "0000-01", "9999-12", "2026-01", "2027-01-01'; drop", "2026-09-18T10:00:00+08:00",
         "9999-12-31T23:59:59-12:00", "-5", "1e3", "1" * 40, "true", "false", "approve", "reject",
         "revoke", "license", "penalty", "open", "open ", " open", "conditional", "closed",
         "unconditional", "none", "draft", "deleted", "pending", "failed", ">7", "uscc_checksum",
         "http://127.0.0.1:8983/solr/ckan/select?q=*:*", "../../etc/passwd", "<script>x</script>",
         "\u200b", "Ｏｐｅｎ", "x" * 3000, "\x00", "a\x00b"]


def json_values(names: list[str]) -> st.SearchStrategy[Any]:
    """Arbitrary JSON: scalars (numbers beyond PostgreSQL's, markings, edges, real objects'
    names and ids) nested in lists and objects."""
    text = st.one_of(st.text(max_size=20), st.sampled_from(EDGES), st.sampled_from(MARKINGS),
                     st.builds(lambda a, m, b: a + m + b, st.text(max_size=5),
                               st.sampled_from(MARKINGS), st.text(max_size=5)),
                     st.sampled_from(names))
    scalars = st.one_of(st.none(), st.booleans(),
                        st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
                        st.floats(allow_nan=False, allow_infinity=False), text, text)
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8) | text, inner,
                                                     max_size=4)), max_leaves=12)


def markings_in(value: Any, path: str = "") -> Iterator[str]:
    """Where a stored value carries a marking (``classified.rule``), keys included."""
    if isinstance(value, str):
        if classified.rule(value):
            yield f"{path}: {value!r}"
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from markings_in(key, f"{path}/<key>")
            yield from markings_in(inner, f"{path}/{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from markings_in(inner, f"{path}/{index}")


def call(api: Api, action: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    resp = api.app.post(f"/api/3/action/{action}", json=data, headers=api.headers, status=None)
    assert resp.status_code < 500, (action, data, resp.status_code,
                                    resp.get_data(as_text=True)[:2000])
    return resp.status_code, resp.json


BOUNDS = settings(
    derandomize=True, database=None, deadline=dt.timedelta(seconds=15),
    phases=(Phase.explicit, Phase.generate),  # no shrinking: a bounded run; the example prints
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True)


@pytest.fixture
def world(app):
    """A department with an editor, its dataset with a 双公示 resource holding records, a
    conditional dataset with a pending access request, and a sysadmin."""
    editor = ckan_factories.UserWithToken()
    applicant = ckan_factories.UserWithToken()
    sysadmin = ckan_factories.SysadminWithToken()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    dataset = factories.Dataset(owner_org=org["id"])
    conditional = factories.Dataset(owner_org=org["id"], open_type="conditional",
                                    open_condition="签署安全承诺书", share_type="none",
                                    share_condition="不共享")
    resource = call_action("resource_create", {"user": editor["name"]}, package_id=dataset["id"],
                           name="行政处罚决定", record_type="penalty", url="")
    call_action("yantai_disclosure_submit", {"user": editor["name"]},
                resource_id=resource["id"], records=[penalty()])
    today = dt.date.today()
    request = call_action("yantai_access_request_create", {"user": applicant["name"]},
                          package_id=conditional["id"], purpose="研究", intended_use="统计",
                          applicant_organization="烟台大学", period_start=today.isoformat(),
                          period_end=(today + dt.timedelta(days=90)).isoformat(),
                          commitment_accepted=True)
    names = [org["name"], org["id"], dataset["id"], dataset["name"], conditional["id"],
             resource["id"], request["id"], editor["name"], "ytdsjj"]
    return {"apis": {"sysadmin": Api(app, sysadmin["token"]), "editor": Api(app, editor["token"])},
            "names": names, "org": org, "dataset": dataset, "sysadmin": sysadmin}


def test_every_action_is_fuzzed():
    assert len(ACTIONS) >= 14 and "yantai_compliance_check" in ACTIONS
    assert all(PARAMS[name] for name in ACTIONS if name != "yantai_quality_summary"), PARAMS
    assert len(MARKINGS) >= 15 and all(classified.rule(m) for m in MARKINGS[:5])


@pytest.mark.parametrize("role", ["sysadmin", "editor"])
def test_yantai_actions_never_answer_5xx(world, role):
    api = world["apis"][role]
    values = json_values(world["names"])

    def inputs(action: str) -> st.SearchStrategy[dict[str, Any]]:
        known = PARAMS[action] + ["id", "organization"]
        special = {"record": st.one_of(values, st.just(penalty()), st.just(license()),
                                       st.builds(lambda r, k, v: {**r, k: v},
                                                 st.just(penalty()), st.sampled_from(
                                                     list(penalty())), values)),
                   "records": st.lists(st.one_of(values, st.just(penalty())), max_size=3)}
        return st.dictionaries(st.sampled_from(known) | st.text(max_size=6),
                               st.one_of(values, *(s for k, s in special.items()
                                                   if k in known)), max_size=6)

    @settings(BOUNDS, max_examples=120)
    @given(st.sampled_from(ACTIONS).flatmap(lambda a: st.tuples(st.just(a), inputs(a))))
    def check(case: tuple[str, dict[str, Any]]) -> None:
        action, data = case
        call(api, action, data)

    check()


@pytest.mark.parametrize("role", ["sysadmin", "editor"])
def test_the_dataset_schema_never_answers_5xx_nor_stores_a_marking(world, role):
    api = world["apis"][role]
    admin = world["apis"]["sysadmin"]
    values = json_values(world["names"])
    resource = st.dictionaries(st.sampled_from(RESOURCE_FIELDS), values, max_size=4)
    info_item = st.dictionaries(st.sampled_from(INFO_ITEM_FIELDS), values, max_size=3)
    field_value = {"resources": st.lists(resource | values, max_size=2),
                   "info_items": st.lists(info_item | values, max_size=2),
                   "tags": st.lists(st.fixed_dictionaries({"name": values}) | values,
                                    max_size=2),
                   "extras": st.lists(st.fixed_dictionaries({"key": values, "value": values})
                                      | values, max_size=2)}
    changes = st.dictionaries(
        st.sampled_from(DATASET_FIELDS + EXTRA_DATASET_KEYS + ["resources"]), values,
        max_size=5).flatmap(lambda d: st.fixed_dictionaries(
            {k: (field_value[k] | st.just(v)) if k in field_value else st.just(v)
             for k, v in d.items()}))
    target = world["dataset"]["id"]
    base = {k: v for k, v in world["dataset"].items()
            if k in DATASET_FIELDS and k not in ("name", "id")}

    @settings(BOUNDS, max_examples=45)
    @given(st.sampled_from(["package_patch", "package_create"]), changes)
    def check(action: str, change: dict[str, Any]) -> None:
        if action == "package_patch":
            code, body = call(api, action, {**change, "id": target})
            shown = [target]
        else:
            code, body = call(api, action, {**base, "owner_org": world["org"]["id"], **change})
            shown = [body["result"]["id"]] if body.get("success") else []
        if body.get("success"):
            shown.append(body["result"]["id"])
        for pkg_id in set(shown):
            stored = admin.ok("package_show", id=pkg_id)
            found = list(markings_in(stored))
            assert not found, (action, change, found)

    check()
