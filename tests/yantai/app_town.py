"""A town for the tests of 数据应用 (the fixture ``app_town``, made available by
tests/yantai/conftest.py): the town of the data requests' tests, with the data authority's
reviewer, an editor of an unrelated department, a sysadmin, and datasets the public may not see."""
from __future__ import annotations

import ckan.plugins.toolkit as tk
import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from tests import factories
from tests.api import Api


@pytest.fixture
def app_town(app, town):
    """``town`` (a citizen, the transport bureau's editor and member, a stranger, an open and a
    closed transport dataset), plus: the data authority with a reviewer, the health commission
    with an editor, a private transport dataset, a second open transport dataset and an open
    health dataset, and a sysadmin."""
    reviewer = ckan_factories.UserWithToken()
    other_editor = ckan_factories.UserWithToken()
    sysadmin = ckan_factories.SysadminWithToken()
    factories.Organization(name=tk.config["ckanext.yantai.access.authority_org"],
                           title="烟台市大数据局",
                           users=[{"name": reviewer["name"], "capacity": "editor"}])
    call_action("organization_member_create", {"ignore_auth": True}, id=town["other"]["id"],
                username=other_editor["name"], role="editor")
    private = factories.Dataset(owner_org=town["transport"]["id"], title="公交调度内部台账",
                                private=True)
    taxis = factories.Dataset(owner_org=town["transport"]["id"], title="烟台市出租汽车企业信息",
                              open_type="open")
    clinics = factories.Dataset(owner_org=town["other"]["id"], title="烟台市预防接种门诊信息",
                                open_type="open")
    return {**town, "reviewer": Api(app, reviewer["token"]),
            "other_editor": Api(app, other_editor["token"]),
            "sysadmin": Api(app, sysadmin["token"]), "private": private, "taxis": taxis,
            "clinics": clinics}
