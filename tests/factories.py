"""Factories for the portal's schemas: CKAN's own, with the catalogue fields filled in validly."""
from __future__ import annotations

import factory
from ckan.tests import factories
from stdnum.cn import uscc


def make_uscc(n: int, prefix: str = "11370600MB") -> str:
    """A valid unified social credit code (GB 32100-2015 check character), unique per n."""
    first17 = f"{prefix}{n:07d}"[:17]
    return first17 + uscc.calc_check_digit(first17)


class Organization(factories.Organization):
    dept_code = factory.Sequence(make_uscc)
    dept_type = "city_department"
    region = "370600"


class Dataset(factories.Dataset):
    notes = "测试用数据集。"
    owner_org = factory.LazyAttribute(lambda _: Organization()["id"])
    resource_category = "2-02-003"
    resource_code = factory.Sequence(lambda n: f"2-02-003/{n:05d}")
    domain = factory.LazyFunction(lambda: ["transport"])
    share_type = "unconditional"
    share_method = "file"
    open_type = "open"
    update_cycle = "monthly"
    info_items = factory.LazyFunction(lambda: [{"name": "线路名称", "data_type": "string"}])
    contact_office = "数据管理科"
    contact_phone = "0535-6788888"
