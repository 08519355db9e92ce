"""Quality rules (pure): completeness, licence, formats, reachability, freshness."""
from __future__ import annotations

import datetime as dt

from ckanext.yantai import quality

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
OPEN = frozenset({"cc-by"})


def complete(**changes):
    pkg = {
        "title": "烟台市公交线路站点信息", "notes": "线路和站点", "resource_category": "2-02-003",
        "resource_code": "2-02-003/0001", "provider_code": "113706000043420323",
        "domain": ["transport"], "region": "370600", "update_cycle": "monthly",
        "open_type": "open", "share_type": "unconditional", "share_method": "file",
        "info_items": [{"name": "线路名称", "data_type": "string"}], "release_date": "2026-01-01",
        "temporal_start": "2025-01-01", "temporal_end": "2026-10-31", "contact_office": "数据科",
        "contact_phone": "0535-6631552", "tags": [{"name": "公交"}], "license_id": "cc-by",
        "metadata_modified": "2026-11-20T08:00:00",
        "resources": [{"id": "r1", "format": "CSV", "created": "2026-11-20T08:00:00",
                       "last_modified": "2026-11-20T08:00:00"}],
    }
    pkg.update(changes)
    return pkg


def test_a_complete_fresh_open_dataset_scores_100():
    result = quality.assess(complete(), NOW, OPEN)
    assert (result.score, result.issues, result.missing_fields) == (100, [], [])


def test_missing_catalogue_fields_cost_in_proportion():
    result = quality.assess(complete(contact_phone="", tags=[], temporal_end=None), NOW, OPEN)
    assert result.missing_fields == ["temporal_end", "contact_phone", "tags"]
    assert result.issues == ["incomplete"]
    assert result.score == 100 - round(40 * 3 / len(quality.CORE_FIELDS))


def test_a_licence_that_is_not_open():
    result = quality.assess(complete(license_id="yantai-conditional-1.0"), NOW, OPEN)
    assert result.issues == ["licence_not_open"] and result.score == 85


def test_formats_that_are_not_machine_readable():
    resources = [{"id": "a", "format": "PDF", "created": "2026-11-20"},
                 {"id": "b", "format": "csv", "created": "2026-11-20"}]
    result = quality.assess(complete(resources=resources), NOW, OPEN)
    assert result.issues == ["not_machine_readable"]
    assert result.score == 100 - round(15 / 2)


def test_no_resources():
    result = quality.assess(complete(resources=[]), NOW, OPEN)
    assert "no_resources" in result.issues
    assert result.score == 100 - 15 - 15


def test_unreachable_resources():
    result = quality.assess(complete(), NOW, OPEN, reachable={"r1": False})
    assert result.issues == ["unreachable"] and result.score == 85


def test_a_monthly_dataset_not_updated_for_70_days_is_overdue():
    old = (NOW - dt.timedelta(days=70)).isoformat()
    result = quality.assess(complete(resources=[{"id": "r1", "format": "CSV",
                                                 "last_modified": old}]), NOW, OPEN)
    assert result.issues == ["update_overdue"]
    monthly = quality.OVERDUE_AFTER_DAYS["monthly"]
    assert monthly is not None and result.overdue_days == 70 - monthly
    assert result.score == 85


def test_within_the_allowance_is_not_overdue():
    recent = (NOW - dt.timedelta(days=40)).isoformat()
    result = quality.assess(complete(resources=[{"id": "r1", "format": "CSV",
                                                 "last_modified": recent}]), NOW, OPEN)
    assert result.issues == []


def test_editing_only_the_metadata_does_not_make_data_fresh():
    old = (NOW - dt.timedelta(days=200)).isoformat()
    result = quality.assess(complete(metadata_modified=NOW.isoformat(), resources=[
        {"id": "r1", "format": "CSV", "created": old}]), NOW, OPEN)
    assert "update_overdue" in result.issues


def test_irregular_datasets_are_never_overdue():
    old = "2020-01-01T00:00:00"
    result = quality.assess(complete(update_cycle="irregular", resources=[
        {"id": "r1", "format": "CSV", "created": old}]), NOW, OPEN)
    assert result.issues == []


def test_live_services_are_not_overdue():
    old = "2020-01-01T00:00:00"
    result = quality.assess(complete(update_cycle="realtime", resources=[
        {"id": "r1", "format": "API", "created": old}]), NOW, OPEN)
    assert "update_overdue" not in result.issues


def test_the_licence_must_agree_with_the_open_type():
    closed = dict(open_type="conditional", open_condition="申请后使用")
    agreed = quality.assess(complete(license_id="yantai-conditional-1.0", **closed), NOW, OPEN)
    assert (agreed.issues, agreed.score) == ([], 100)
    wrong = quality.assess(complete(license_id="cc-by", **closed), NOW, OPEN)
    assert (wrong.issues, wrong.score) == (["licence_mismatch"], 85)
    none = quality.assess(complete(license_id="notspecified", open_type="closed"), NOW, OPEN)
    assert none.issues == ["licence_mismatch"]
