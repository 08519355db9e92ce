"""The shipped demo catalogue is complete and consistent (what `make up` loads)."""
from __future__ import annotations

import collections
import re

import pytest
from stdnum.cn import uscc

from ckanext.yantai.demo import read_catalogue

DOMAINS = {"credit", "transport", "medical", "health", "employment", "social-security", "culture",
           "science", "environment", "finance", "enterprise"}
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,99}$")


@pytest.fixture(scope="module")
def catalogue():
    return read_catalogue()


def test_at_least_twelve_departments_with_valid_codes(catalogue):
    orgs = catalogue["organizations"]
    assert len(orgs) >= 12
    assert len({o["name"] for o in orgs}) == len(orgs)
    for org in orgs:
        assert NAME.match(org["name"]), org["name"]
        assert uscc.is_valid(org["dept_code"]), (org["title"], org["dept_code"])


def test_at_least_forty_datasets_over_every_domain(catalogue):
    datasets = catalogue["datasets"]
    orgs = {o["name"] for o in catalogue["organizations"]}
    assert len(datasets) >= 40
    assert len({d["name"] for d in datasets}) == len(datasets)
    per_domain = collections.Counter(g for d in datasets for g in d["domain"])
    assert set(per_domain) == DOMAINS
    assert min(per_domain.values()) >= 3
    for ds in datasets:
        assert NAME.match(ds["name"]), ds["name"]
        assert ds["owner_org"] in orgs


def test_resources_are_tables_in_csv_xlsx_and_json(catalogue):
    formats = collections.Counter()
    for ds in catalogue["datasets"]:
        assert ds["resources"], ds["name"]
        for res in ds["resources"]:
            formats[res["format"]] += 1
            assert res["rows"], (ds["name"], res["name"])
            for row in res["rows"]:
                assert len(row) == len(res["columns"]), (ds["name"], res["name"], row)
    assert set(formats) == {"CSV", "XLSX", "JSON"}


def test_the_bus_dataset_is_there(catalogue):
    titles = {d["title"]: d for d in catalogue["datasets"]}
    assert "transport" in titles["烟台市公交线路站点信息"]["domain"]
