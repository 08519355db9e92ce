"""The catalogue rules hold on the API: bad input gets a field error in Chinese, nothing is
saved."""
from __future__ import annotations

import pytest
from ckan import model
from ckan.tests.helpers import call_action

from tests import factories

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


@pytest.fixture
def api(sysadmin_api):
    return sysadmin_api


@pytest.fixture
def create_error(api):
    """The field errors of package_create over the API: the factory's valid fields plus these."""
    org = factories.Organization()

    def create(**fields) -> dict[str, list[str]]:
        data = factories.Dataset.stub(owner_org=org["id"]).__dict__
        data = {**{k: v for k, v in data.items() if not k.startswith("_")}, **fields}
        errors = api.errors("package_create", **data)
        assert errors.pop("__type") == "Validation Error"
        return errors

    return create


def test_a_valid_entry_is_stored_with_its_catalogue_fields():
    org = factories.Organization()
    ds = factories.Dataset(owner_org=org["id"], domain=["transport", "credit"],
                           related_resource_codes=["1-04-001/0001"])
    shown = call_action("package_show", id=ds["id"])
    assert shown["provider_code"] == org["dept_code"]  # defaults to the department's code
    assert shown["security_class"] == "non_classified"
    assert shown["domain"] == ["transport", "credit"]
    assert shown["related_resource_codes"] == ["1-04-001/0001"]
    assert shown["info_items"] == [{"name": "线路名称", "data_type": "string"}]
    assert shown["license_id"] == "cc-by"
    assert shown["region"] == "370600"


def test_provider_code_with_a_bad_check_character(create_error):
    errors = create_error(provider_code="91350100M000100Y44")
    assert errors["provider_code"] == ["统一社会信用代码校验位错误（GB 32100-2015）"]


def test_provider_code_typed_full_width_is_stored_normalised():
    ds = factories.Dataset(provider_code="９１３５０１００ｍ０００１００ｙ４３")
    assert call_action("package_show", id=ds["id"])["provider_code"] == "91350100M000100Y43"


def test_unknown_update_cycle(create_error):
    errors = create_error(update_cycle="hourly")
    assert errors["update_cycle"][0].startswith("hourly: 取值必须是以下之一：")


def test_conditional_open_type_needs_its_condition(create_error):
    errors = create_error(open_type="conditional")
    assert errors["open_condition"] == ["开放类型为“有条件开放”时必须填写"]
    factories.Dataset(open_type="conditional", open_condition="签署安全承诺书后使用")


def test_share_condition_required_unless_unconditional(create_error):
    errors = create_error(share_type="none")
    assert errors["share_condition"] == ["共享类型不是“无条件共享”时必须填写"]


def test_duplicate_resource_code(create_error):
    factories.Dataset(resource_code="2-02-003/0099")
    errors = create_error(resource_code="2-02-003/0099")
    assert errors["resource_code"] == ["该信息资源代码已被其他数据集使用"]


def test_resource_code_keeps_on_update_of_the_same_dataset(api):
    ds = factories.Dataset(resource_code="2-02-003/0100")
    updated = api.ok("package_patch", id=ds["id"], title="改名后的数据集")
    assert updated["resource_code"] == "2-02-003/0100"


def test_resource_code_must_start_with_the_category(create_error):
    errors = create_error(resource_code="2-02-004/0001")
    assert errors["resource_code"] == ["信息资源代码应以本资源的信息资源分类代码开头"]


def test_classified_security_class_is_refused_and_nothing_is_stored(create_error):
    errors = create_error(name="mi-mi-shu-ju", security_class="secret")
    assert errors["security_class"] == ["本平台为非涉密系统，涉密信息资源不得在此发布"]
    assert model.Package.get("mi-mi-shu-ju") is None


def test_contact_phone_must_not_be_a_mobile(create_error):
    errors = create_error(contact_phone="13912345678")
    assert errors["contact_phone"] == ["请填写部门科室的办公电话，不得填写手机号码"]


def test_time_range_in_order(create_error):
    errors = create_error(temporal_start="2025-01-01", temporal_end="2024-12-31")
    assert errors["temporal_end"] == ["时间范围的结束日期早于开始日期"]


def test_information_items_are_required_and_typed(create_error):
    assert create_error(info_items=[])["info_items"] == ["请至少填写一个信息项（数据包含的字段）"]
    errors = create_error(info_items=[{"name": "金额", "data_type": "money"}])
    assert errors["info_items"][0]["data_type"][0].startswith("money: ")


def test_unknown_domain(create_error):
    errors = create_error(domain=["transport", "weather"])
    assert errors["domain"][0].startswith("weather: ")


def test_department_code_is_checked(api):
    errors = api.errors("organization_create", title="烟台市测试局", dept_code="11370600MB0000001X",
                        dept_type="city_department")
    assert errors["dept_code"] == ["统一社会信用代码校验位错误（GB 32100-2015）"]


def test_department_type_is_required(api):
    errors = api.errors("organization_create", title="烟台市测试局",
                        dept_code=factories.make_uscc(4242))
    assert "dept_type" in errors


def test_resource_format_class_is_derived_and_record_type_checked(api):
    ds = factories.Dataset()
    res = api.ok("resource_create", package_id=ds["id"], name="许可", url="http://example.com/a.csv",
                 format="CSV", record_type="license")
    assert res["format_class"] == "spreadsheet"
    assert res["record_type"] == "license"
    errors = api.errors("resource_create", package_id=ds["id"], name="x",
                        url="http://example.com/b.csv", record_type="permit")
    assert errors["record_type"][0].startswith("permit: ")


def test_a_draft_from_the_first_form_page_may_lack_later_fields(api):
    org = factories.Organization()
    draft = api.ok("package_create", title="烟台市测试草稿", notes="第一页", owner_org=org["id"],
                   state="draft")
    assert draft["state"] == "draft"
    errors = api.errors("package_patch", id=draft["id"], state="active")
    assert {"resource_category", "resource_code", "domain", "share_type", "open_type",
            "update_cycle", "info_items", "contact_office", "contact_phone"} <= set(errors)
    assert errors["update_cycle"] == ["缺失值"]


class TestChineseUrlNames:
    def test_an_all_chinese_title_gives_a_pinyin_name(self, api):
        ds = api.ok("package_create", **_stub(title="烟台市公交线路站点信息"))
        assert ds["name"] == "yan-tai-shi-gong-jiao-xian-lu-zhan-dian-xin-xi"

    def test_the_same_title_twice_gives_two_names(self, api):
        first = api.ok("package_create", **_stub(title="烟台市空气质量日报"))
        second = api.ok("package_create", **_stub(title="烟台市空气质量日报"))
        assert first["name"] == "yan-tai-shi-kong-qi-zhi-liang-ri-bao"
        assert second["name"] == "yan-tai-shi-kong-qi-zhi-liang-ri-bao-2"

    def test_renaming_the_title_keeps_the_url(self, api):
        ds = api.ok("package_create", **_stub(title="烟台市图书馆名录"))
        renamed = api.ok("package_patch", id=ds["id"], title="烟台市公共图书馆名录")
        assert renamed["name"] == ds["name"] == "yan-tai-shi-tu-shu-guan-ming-lu"
        # package_update without a name keeps it too
        full = {k: v for k, v in renamed.items() if k != "name"}
        assert api.ok("package_update", **full)["name"] == ds["name"]

    def test_a_given_name_is_kept(self, api):
        ds = api.ok("package_create", **_stub(title="烟台市公交线路", name="bus-lines"))
        assert ds["name"] == "bus-lines"

    def test_a_title_without_letters_still_gets_a_name(self, api):
        ds = api.ok("package_create", **_stub(title="《》！"))
        assert ds["name"] == "dataset"

    def test_a_department_with_a_chinese_title(self, api):
        org = api.ok("organization_create", title="烟台市大数据局",
                     dept_code=factories.make_uscc(77), dept_type="city_department")
        assert org["name"] == "yan-tai-shi-da-shu-ju-ju"
        assert org["dept_code"] == factories.make_uscc(77)


def _stub(**fields):
    data = factories.Dataset.stub(**fields).__dict__
    data.pop("name", None) if "name" not in fields else None
    return {k: v for k, v in data.items() if not k.startswith("_")}


def test_an_empty_domain_list_is_missing(create_error):
    assert create_error(domain=[])["domain"] == ["缺失值"]
    assert create_error(domain="[]")["domain"] == ["缺失值"]


def test_blank_rows_of_related_codes_are_dropped(api):
    ds = api.ok("package_create", **_stub(related_resource_codes=["1-04-001/0001", ""]))
    assert ds["related_resource_codes"] == ["1-04-001/0001"]


def test_department_phone_must_not_be_a_mobile(api):
    errors = api.errors("organization_create", title="烟台市测试局",
                        dept_code=factories.make_uscc(88), dept_type="city_department",
                        phone="0535-13812345678")
    assert errors["phone"] == ["请填写部门科室的办公电话，不得填写手机号码"]


def test_the_form_goes_on_to_page_two_under_the_pinyin_name(app):
    from ckan.tests import factories as ckan_factories

    sysadmin = ckan_factories.SysadminWithToken()
    org = factories.Organization()
    resp = app.post("/dataset/new", headers={"Authorization": sysadmin["token"]},
                    data={"title": "烟台市表单测试", "name": "", "notes": "从表单创建",
                          "owner_org": org["id"], "_ckan_phase": "dataset_new_1",
                          "save": "continue"}, follow_redirects=False)
    assert resp.status_code == 302, resp.body
    assert resp.headers["Location"].endswith("/dataset/new/yan-tai-shi-biao-dan-ce-shi/2")
    page_two = app.get("/dataset/new/yan-tai-shi-biao-dan-ce-shi/2",
                       headers={"Authorization": sysadmin["token"]})
    assert page_two.status_code == 200
    assert "信息资源分类" in page_two.body


def test_a_malformed_category_and_a_typed_one_normalised(create_error, api):
    errors = create_error(resource_category="2-2-3", resource_code="2-2-3/0001")
    assert errors["resource_category"] == [
        "信息资源分类应为“类-项-目[-细目]”，类为1（基础）、2（主题）或3（部门），例如 2-02-003"]
    ds = api.ok("package_create", **_stub(resource_category="２-02-003",
                                          resource_code="2-02-003/07777"))
    assert ds["resource_category"] == "2-02-003"


def test_an_unknown_region(create_error):
    assert create_error(region="110000")["region"][0].startswith("110000: ")


class TestLicenceFromOpenType:
    """开放许可协议 left empty (or 未指定) takes the licence the open type implies, on every
    path."""

    @pytest.mark.parametrize("open_type, extra, expected", [
        ("open", {}, "cc-by"),
        ("conditional", {"open_condition": "签署数据使用承诺书后使用"}, "yantai-conditional-1.0"),
        ("closed", {}, "yantai-government-1.0"),
    ])
    @pytest.mark.parametrize("given", [None, "", "notspecified", "other-closed"])
    def test_an_empty_licence_gets_the_open_types(self, api, open_type, extra, expected, given):
        org = factories.Organization()
        data = {k: v for k, v in factories.Dataset.stub(owner_org=org["id"]).__dict__.items()
                if not k.startswith("_") and k != "license_id"}
        data.update(open_type=open_type, **extra)
        if given is not None:
            data["license_id"] = given
        created = api.ok("package_create", **data)
        assert created["license_id"] == expected
        assert call_action("package_show", id=created["id"])["license_id"] == expected

    def test_a_chosen_licence_is_kept(self):
        ds = factories.Dataset(license_id="cc-zero")
        assert call_action("package_show", id=ds["id"])["license_id"] == "cc-zero"

    def test_an_unknown_licence_is_refused(self, create_error):
        errors = create_error(license_id="my-own-licence")
        assert errors["license_id"][0].startswith("未知的许可协议 my-own-licence")

    @pytest.mark.parametrize("open_type, extra, licence", [
        ("conditional", {"open_condition": "不得用于商业用途"}, "cc-by"),
        ("conditional", {"open_condition": "不得用于商业用途"}, " cc-zero "),
        ("conditional", {"open_condition": "不得用于商业用途"}, "yantai-government-1.0"),
        ("closed", {}, "cc-by-sa"),
        ("closed", {}, "yantai-conditional-1.0"),
        ("open", {}, "yantai-conditional-1.0"),
        ("open", {}, "yantai-government-1.0"),
    ])
    def test_a_licence_against_the_open_type_is_refused(self, create_error, open_type, extra,
                                                        licence):
        errors = create_error(open_type=open_type, license_id=licence, **extra)
        assert errors["license_id"][0].startswith(f"许可协议 {licence.strip()} 与开放类型"), errors

    def test_the_licence_follows_a_change_of_open_type(self, api):
        ds = factories.Dataset(license_id="cc-by")
        patched = api.ok("package_patch", id=ds["id"], open_type="conditional",
                         open_condition="不得用于商业用途")
        assert patched["license_id"] == "yantai-conditional-1.0"
        # ... but not a licence chosen with it
        errors = api.errors("package_patch", id=ds["id"], open_type="open",
                            license_id="yantai-government-1.0")
        assert "license_id" in errors
        errors = api.errors("package_patch", id=ds["id"], license_id="cc-zero")
        assert "license_id" in errors
        assert call_action("package_show", id=ds["id"])["license_id"] == "yantai-conditional-1.0"

    def test_a_draft_gets_its_licence_once_the_open_type_is_given(self, api):
        org = factories.Organization()
        draft = api.ok("package_create", title="烟台市许可测试草稿", notes="第一页",
                       owner_org=org["id"], state="draft")
        assert draft["license_id"] in ("", None)
        patched = api.ok("package_patch", id=draft["id"], open_type="closed")
        assert patched["license_id"] == "yantai-government-1.0"
