"""Policy-domain groups: created idempotently, and kept in step with each dataset's domain."""
from __future__ import annotations

import ckan.plugins.toolkit as tk
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.yantai import domains, vocabularies
from tests import factories

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


@pytest.fixture
def domain_groups(clean_db):
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return domains.ensure_groups(site_user)


def group_names(dataset_id: str) -> set[str]:
    return {g["name"] for g in call_action("package_show", id=dataset_id)["groups"]}


def test_every_domain_is_a_group_with_a_chinese_title_and_icon(domain_groups):
    assert set(domain_groups.values()) == {"created"}
    for term in vocabularies.DOMAINS:
        group = call_action("group_show", id=term.value)
        assert group["title"] == term.zh
        assert group["image_display_url"].endswith(f"/yantai/domains/{term.value}.svg")


def test_creating_the_groups_again_changes_nothing(domain_groups):
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    assert set(domains.ensure_groups(site_user).values()) == {"unchanged"}


def test_the_domain_icons_are_served(domain_groups, app):
    resp = app.get("/yantai/domains/transport.svg")
    assert resp.status_code == 200
    assert "交通" in resp.body


@pytest.mark.usefixtures("domain_groups")
class TestMembership:
    def test_a_new_dataset_joins_its_domain_groups(self):
        ds = factories.Dataset(domain=["transport", "credit"])
        assert group_names(ds["id"]) == {"transport", "credit"}
        assert call_action("group_show", id="credit")["package_count"] == 1

    def test_changing_the_domain_moves_the_dataset(self):
        ds = factories.Dataset(domain=["transport", "credit"])
        call_action("package_patch", context={"user": ckan_factories.Sysadmin()["name"]},
                    id=ds["id"], domain=["finance"])
        assert group_names(ds["id"]) == {"finance"}

    def test_groups_that_are_not_domains_are_left_alone(self):
        other = ckan_factories.Group(name="featured")
        sysadmin = ckan_factories.Sysadmin()["name"]
        ds = factories.Dataset(domain=["transport"])
        call_action("member_create", context={"user": sysadmin}, id=other["id"],
                    object=ds["id"], object_type="package", capacity="public")
        call_action("package_patch", context={"user": sysadmin}, id=ds["id"], domain=["culture"])
        assert group_names(ds["id"]) == {"culture", "featured"}

    def test_search_finds_datasets_by_domain_group(self):
        ds = factories.Dataset(domain=["environment"])
        found = call_action("package_search", fq="groups:environment")["results"]
        assert [d["id"] for d in found] == [ds["id"]]
