"""A town for the tests of 数据需求 and 纠错 (the fixture ``town``, made available by
tests/yantai/conftest.py)."""
from __future__ import annotations

import pytest
from ckan.tests import factories as ckan_factories

from tests import factories
from tests.api import Api


@pytest.fixture
def town(app):
    """A citizen, a transport department (an editor and a plain member), a health department,
    an open dataset and a closed one."""
    citizen = ckan_factories.UserWithToken(fullname="李市民")
    editor = ckan_factories.UserWithToken()
    member = ckan_factories.UserWithToken()
    transport = factories.Organization(title="烟台市交通运输局", users=[
        {"name": editor["name"], "capacity": "editor"},
        {"name": member["name"], "capacity": "member"}])
    other = factories.Organization(title="烟台市卫生健康委员会")
    dataset = factories.Dataset(owner_org=transport["id"], title="烟台市公交线路站点信息",
                                open_type="open")
    closed = factories.Dataset(owner_org=transport["id"], title="出租车运营轨迹",
                               open_type="closed", share_type="conditional",
                               share_condition="仅限政务部门")
    return {"citizen": Api(app, citizen["token"]), "citizen_name": citizen["name"],
            "editor": Api(app, editor["token"]), "member": Api(app, member["token"]),
            "anonymous": Api(app, None), "stranger": Api(app, ckan_factories.UserWithToken()[
                "token"]), "transport": transport, "other": other, "dataset": dataset,
            "closed": closed}
