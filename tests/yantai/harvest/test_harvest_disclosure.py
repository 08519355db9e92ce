"""Harvester yantai_disclosure: 双公示 feeds (CSV, XLSX, JSON; UTF-8, BOM, GBK, GB18030) served over
loopback HTTP go through the compliance checker: valid rows published masked, invalid rows
reported per row in Chinese and kept, nothing personal in the harvest tables."""
from __future__ import annotations

import csv
import io
import json

import ckan.model as model
import pytest
import sqlalchemy as sa
from ckan.tests import factories as ckan_factories
from ckan.tests.helpers import call_action
from openpyxl import Workbook

from ckanext.yantai.harvest import disclosure_feed, runner
from ckanext.yantai.model import DisclosureRecord
from tests import factories
from tests.yantai import disclosure_records as samples
from tests.yantai.harvest.test_harvest_release import errors_of

pytestmark = [pytest.mark.usefixtures("clean_db", "clean_index", "clean_datastore",
                                      "with_request_context"),
              pytest.mark.usefixtures("feeds_allowed")]

RARE = "烟台䶮记食品有限公司"  # 䶮 (U+4DAE): in GB18030, not in GBK


@pytest.fixture
def world(feed_server):
    sysadmin = ckan_factories.Sysadmin()
    org = factories.Organization(title="烟台市市场监督管理局")
    dataset = factories.Dataset(owner_org=org["id"], title="双公示信息")
    context = {"user": sysadmin["name"]}
    penalty = call_action("resource_create", dict(context), package_id=dataset["id"],
                          name="行政处罚决定", record_type="penalty", url="")
    licence = call_action("resource_create", dict(context), package_id=dataset["id"],
                          name="行政许可决定", record_type="license", url="")
    return {"org": org, "penalty": penalty, "licence": licence, "server": feed_server,
            "sysadmin": sysadmin}


def add_source(world, path: str, config: dict | None = None, name: str = "scjg-penalty"):
    return call_action("harvest_source_create", context={"user": world["sysadmin"]["name"]},
                       name=name, url=world["server"].url(path),
                       source_type="yantai_disclosure", owner_org=world["org"]["id"],
                       config=json.dumps(config) if config else "")


def as_csv(records: list[dict], encoding: str, headers: dict[str, str] | None = None) -> bytes:
    headers = headers or {}
    columns = list(dict.fromkeys(k for r in records for k in r))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([headers.get(c, c) for c in columns])
    for record in records:
        writer.writerow([record.get(c, "") for c in columns])
    return out.getvalue().encode(encoding)


def stored(resource_id: str) -> list[DisclosureRecord]:
    model.Session.expire_all()
    return model.Session.query(DisclosureRecord).filter_by(resource_id=resource_id).all()


def public_rows(resource_id: str) -> list[dict]:
    return call_action("datastore_search", resource_id=resource_id, limit=100)["records"]


def feed_records(party: str = "烟台某某食品有限公司") -> list[dict]:
    good = samples.penalty(行政相对人名称=party)
    second = samples.penalty(行政处罚决定书文号="烟市监罚〔2026〕102号")
    bad = samples.penalty(行政处罚决定书文号="烟市监罚〔2026〕103号",
                          行政相对人代码_1=samples.FIRM[:-1] + "0", 处罚依据=None)
    return [good, second, bad]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_feeds_in_every_encoding_with_2016_headers(world, encoding):
    party = RARE if encoding != "gbk" else "烟台某记食品有限公司"
    data = as_csv(feed_records(party), encoding,
                  headers={"行政相对人代码_1": "统一社会信用代码", "违法事实": "处罚事由"})
    world["server"].files["/scjg/penalties.csv"] = data
    job = runner.run(add_source(world, "/scjg/penalties.csv")["id"])
    assert job["status"] == "Finished"
    records = stored(world["penalty"]["id"])
    assert len(records) == 3  # the invalid one is kept, not dropped
    assert sorted(r.valid for r in records) == [False, True, True]
    for record in records:
        assert all(not key.startswith("\ufeff") for key in record.fields)  # no BOM residue
    rows = public_rows(world["penalty"]["id"])
    assert party in {r["行政相对人名称"] for r in rows}  # rare characters intact
    assert all("****" in r["法定代表人证件号码"] for r in rows)  # masked
    messages = errors_of(job)
    assert len(messages) == 1, messages
    assert messages[0].startswith("第 4 行：")  # the third record, after the header row
    assert "处罚依据：缺失值" in messages[0] and "行政相对人代码_1：" in messages[0]


def test_xlsx_and_json_feeds_and_the_record_type_from_config(world):
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    records = [samples.license(), samples.license(行政许可决定文书号="烟市监许〔2026〕2号")]
    columns = list(records[0])
    sheet.append(columns)
    for record in records:
        sheet.append([record.get(c) for c in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    world["server"].files["/scjg/licences.xlsx"] = buffer.getvalue()
    job = runner.run(add_source(world, "/scjg/licences.xlsx", {"record_type": "license"},
                                name="scjg-licences")["id"])
    assert job["stats"]["errored"] == 0, errors_of(job)
    assert len(stored(world["licence"]["id"])) == 2

    world["server"].files["/scjg/penalties.json"] = json.dumps(
        {"records": feed_records()[:2]}, ensure_ascii=False).encode("utf-8")
    job = runner.run(add_source(world, "/scjg/penalties.json")["id"])
    assert job["stats"]["errored"] == 0, errors_of(job)
    assert len(public_rows(world["penalty"]["id"])) == 2


def test_an_unchanged_feed_is_not_read_again_and_a_changed_one_updates(world):
    records = feed_records()
    records[2] = samples.penalty(行政处罚决定书文号="烟市监罚〔2026〕103号", 处罚依据=None)
    world["server"].files["/scjg/penalties.csv"] = as_csv(records, "utf-8")
    source = add_source(world, "/scjg/penalties.csv")
    runner.run(source["id"])
    first = {r.record_key: r.first_public_at for r in stored(world["penalty"]["id"])}
    hits = len(world["server"].hits)
    job = runner.run(source["id"])
    assert job["stats"]["not modified"] == 1 and job["stats"]["errored"] == 0
    assert len(world["server"].hits) == hits + 1  # gather's read only
    corrected = records[:2] + [samples.penalty(行政处罚决定书文号="烟市监罚〔2026〕103号")]
    world["server"].files["/scjg/penalties.csv"] = as_csv(corrected, "utf-8")
    job = runner.run(source["id"])
    assert job["stats"]["errored"] == 0, errors_of(job)
    records = stored(world["penalty"]["id"])
    assert len(records) == 3 and all(r.valid for r in records)
    for record in records:  # resent records keep the time they first went online
        if first.get(record.record_key):
            assert record.first_public_at == first[record.record_key]


def test_feeds_that_cannot_be_taken_are_reported(world):
    world["server"].files["/x.csv"] = "名称,地址\n甲,乙\n".encode()
    job = runner.run(add_source(world, "/x.csv", name="unknown-columns")["id"])
    assert any("无法从列名判断" in m for m in errors_of(job)), errors_of(job)

    other = factories.Organization()
    world["org"] = other  # a department without a 双公示 resource
    world["server"].files["/y.csv"] = as_csv(feed_records(), "utf-8")
    job = runner.run(add_source(world, "/y.csv", name="no-resource")["id"])
    assert any("有 0 个行政处罚资源" in m for m in errors_of(job)), errors_of(job)

    world["server"].files["/z.json"] = b"{not json"
    job = runner.run(add_source(world, "/z.json", name="bad-json")["id"])
    assert any("不是有效的 JSON" in m for m in errors_of(job)), errors_of(job)


def test_the_harvest_tables_hold_nothing_personal(world):
    world["server"].files["/scjg/penalties.csv"] = as_csv(feed_records(), "utf-8")
    runner.run(add_source(world, "/scjg/penalties.csv")["id"])
    model.Session.commit()
    text = "\n".join(str(r) for table in ("harvest_object", "harvest_object_error",
                                          "harvest_gather_error", "harvest_object_extra")
                     for r in model.Session.execute(sa.text(f"SELECT * FROM {table}")))
    assert samples.ADULT_ID not in text and samples.ADULT_ID[:14] not in text
    assert "烟台某某食品有限公司" not in text


def test_record_types_are_recognised_from_headers():
    assert disclosure_feed.recognise([samples.penalty()]) == "penalty"
    assert disclosure_feed.recognise([samples.license()]) == "license"
    assert disclosure_feed.recognise([{"名称": "x"}]) is None
