"""A city's 双公示 records for the credit lookup's tests: two departments, two firms, a
个体工商户 and a person (the fixture ``city``, made available by tests/yantai/conftest.py)."""
from __future__ import annotations

import datetime as dt

import pytest
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action

from ckanext.yantai.disclosure import submission
from ckanext.yantai.workdays import SHANGHAI
from tests import factories
from tests.api import Api
from tests.yantai.disclosure_records import SOLE, license, make_uscc, penalty, person_penalty

OTHER = make_uscc("91370613", "MA3DQ2K1")  # 烟台蓬莱海景酒店有限公司
NOW = dt.datetime(2026, 9, 22, 10, 0, tzinfo=SHANGHAI)


def department(title: str, open_type: str = "open") -> dict:
    editor = ckan_factories.User()
    org = factories.Organization(title=title, users=[{"name": editor["name"],
                                                      "capacity": "editor"}])
    extra = {"open_condition": "申请后使用"} if open_type == "conditional" else {}
    dataset = factories.Dataset(owner_org=org["id"], title=f"{title}行政处罚和行政许可信息",
                                open_type=open_type, **extra)
    context = {"user": editor["name"]}
    resources = {kind: call_action("resource_create", dict(context), package_id=dataset["id"],
                                   name=name, record_type=kind, url="")
                 for kind, name in (("penalty", "行政处罚决定"), ("license", "行政许可决定"))}
    return {"org": org, "dataset": dataset, "editor": editor["name"], **resources}


def submit(department: dict, kind: str, records: list[dict], now: dt.datetime = NOW) -> dict:
    context = {"user": department["editor"], "ignore_auth": False}
    return submission.submit(context, department[kind]["id"], records, now=now)


@pytest.fixture
def city(app):
    """Two departments with records of two firms, a 个体工商户 and a person."""
    market = department("烟台市市场监督管理局")
    approvals = department("烟台市行政审批服务局")
    submit(market, "penalty", [
        penalty(**{"行政相对人名称": "烟台恒瑞化工有限公司"}),
        penalty(**{"行政相对人名称": "烟台蓬莱海景酒店有限公司", "行政相对人代码_1": OTHER,
                   "行政处罚决定书文号": "烟市监罚〔2026〕102号"}),
        person_penalty(**{"行政处罚决定书文号": "烟市监罚〔2026〕103号"}),
        penalty(**{"行政相对人名称": "莱山区老味道餐饮店", "行政相对人类别": "个体工商户",
                   "行政相对人代码_1": SOLE, "行政处罚决定书文号": "烟市监罚〔2026〕104号"}),
    ])
    submit(approvals, "license", [license(**{"行政相对人名称": "烟台恒瑞化工有限公司"})])
    return {"market": market, "approvals": approvals, "anonymous": Api(app, None)}


