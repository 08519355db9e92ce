"""Per-client quotas, counted in the real Redis: 429 with Retry-After and the rate-limit headers,
a stricter quota for datastore_search_sql, one count over several web workers, sysadmins not
counted, and requests served when Redis is gone."""
from __future__ import annotations

import concurrent.futures
import urllib.error
import urllib.request

import ckan.plugins.toolkit as tk
import pytest
from ckan.tests import factories
from limits import parse

from ckanext.yantai import quotas
from tests.conftest import serve_portal

API = "/api/3/action"
CLIENT = {"REMOTE_ADDR": "203.0.113.5"}
ON = pytest.mark.ckan_config("ckanext.yantai.quota.enabled", "true")
pytestmark = pytest.mark.usefixtures("clean_db")


def forget(kind: str, key: str, quota: str) -> None:
    """A fresh count for a client (other tests and runs counted on the same Redis)."""
    quotas.limiter().clear(parse(quota), str(tk.config.get("ckan.site_id")), kind, key)


@ON
@pytest.mark.ckan_config("ckanext.yantai.quota.api.anonymous", "5/hour")
def test_an_anonymous_client_gets_its_quota_then_a_429(app):
    forget("api", "addr:203.0.113.5", "5/hour")
    remaining = []
    for _ in range(5):
        response = app.get(f"{API}/package_search", environ_base=CLIENT)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "5"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    refused = app.get(f"{API}/package_search", environ_base=CLIENT)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    error = refused.get_json()["error"]
    assert error["__type"] == "Rate Limit Error" and error["message"].startswith("请求过于频繁")
    # pages of the site are not counted
    assert app.get("/dataset/", environ_base=CLIENT).status_code == 200


@ON
@pytest.mark.ckan_config("ckanext.yantai.quota.api.anonymous", "2/hour")
@pytest.mark.ckan_config("ckanext.yantai.quota.api.user", "4/hour")
def test_a_token_has_its_own_quota_and_sysadmins_none(app):
    forget("api", "addr:203.0.113.5", "2/hour")
    user = factories.UserWithToken()
    headers = {"Authorization": user["token"]}
    codes = [app.get(f"{API}/package_search", headers=headers).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]
    # the address's own count
    assert app.get(f"{API}/package_search", environ_base=CLIENT).status_code == 200
    admin = {"Authorization": factories.SysadminWithToken()["token"]}
    for _ in range(6):
        response = app.get(f"{API}/package_search", headers=admin)
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers


@ON
@pytest.mark.ckan_config("ckanext.yantai.quota.api.user", "100/hour")
@pytest.mark.ckan_config("ckanext.yantai.quota.sql.user", "2/hour")
def test_sql_has_a_stricter_quota_of_its_own(app):
    headers = {"Authorization": factories.UserWithToken()["token"]}
    sql = 'SELECT 1'
    codes = [app.get(f"{API}/datastore_search_sql", query_string={"sql": sql},
                     headers=headers).status_code for _ in range(3)]
    assert codes[2] == 429 and 429 not in codes[:2]
    assert app.get(f"{API}/package_search", headers=headers).status_code == 200


@ON
@pytest.mark.ckan_config("ckanext.yantai.quota.api.anonymous", "100/hour")
@pytest.mark.ckan_config("ckanext.yantai.quota.export.anonymous", "2/hour")
@pytest.mark.ckan_config("ckanext.yantai.quota.export_rows", "1000")
def test_a_table_taken_in_large_pages_counts_as_an_export(app):
    client = {"REMOTE_ADDR": "203.0.113.6"}
    forget("export", "addr:203.0.113.6", "2/hour")
    forget("api", "addr:203.0.113.6", "100/hour")

    def kind(response) -> str:
        return {"100": "api", "2": "export"}[response.headers["X-RateLimit-Limit"]]

    small = app.get(f"{API}/datastore_search", query_string={"resource_id": "x", "limit": "1000"},
                    environ_base=client)
    assert kind(small) == "api"
    for limit in ("1001", 32000):  # in the query, and as a number in a JSON body
        large = (app.get(f"{API}/datastore_search", environ_base=client,
                         query_string={"resource_id": "x", "limit": limit})
                 if isinstance(limit, str) else
                 app.post(f"{API}/datastore_search", environ_base=client,
                          json={"resource_id": "x", "limit": limit}))
        assert kind(large) == "export"
    refused = app.get(f"{API}/datastore_search", query_string={"resource_id": "x", "limit": "5000"},
                      environ_base=client)
    assert refused.status_code == 429
    # the preview's data table asks the same way
    assert app.post("/datatables/ajax/x", data={"length": "5000"},
                    environ_base=client).status_code == 429


@ON
@pytest.mark.ckan_config("ckanext.yantai.quota.api.anonymous", "2/hour")
def test_rdf_by_content_negotiation_and_the_federation_address_count_preflights_do_not(app):
    client = {"REMOTE_ADDR": "203.0.113.7"}
    forget("api", "addr:203.0.113.7", "2/hour")
    for _ in range(3):  # a browser's CORS preflights
        preflight = app.options(f"{API}/package_search", environ_base=client, headers={
            "Origin": "https://example.org", "Access-Control-Request-Method": "GET"})
        assert preflight.status_code < 400 and "X-RateLimit-Limit" not in preflight.headers
    assert app.get("/", environ_base=client).status_code == 200  # the home page: not counted
    turtle = app.get("/", environ_base=client, headers={"Accept": "text/turtle"})
    assert turtle.headers["X-RateLimit-Remaining"] == "1"
    federated = app.get("/federation/ckan/api/3/action/package_search", environ_base=client)
    assert federated.headers["X-RateLimit-Remaining"] == "0"
    assert app.get("/catalog.ttl", environ_base=client).status_code == 429


@ON
@pytest.mark.ckan_config("ckanext.yantai.quota.api.anonymous", "3/hour")
@pytest.mark.ckan_config("ckan.redis.url", "redis://127.0.0.1:9/0")
def test_requests_are_served_when_redis_is_gone(app):
    quotas._limiter = None
    try:
        for _ in range(5):
            assert app.get(f"{API}/package_search").status_code == 200
    finally:
        quotas._limiter = None


def test_one_count_over_several_web_workers():
    quota = "20/hour"
    forget("api", "addr:127.0.0.1", quota)
    with serve_portal(workers=3, settings={"ckanext.yantai.quota.enabled": "true",
                                           "ckanext.yantai.quota.api.anonymous": quota}) as url:
        forget("api", "addr:127.0.0.1", quota)  # (the start-up check called status_show)

        def call(_: int) -> int:
            try:
                with urllib.request.urlopen(f"{url}{API}/package_search?rows=1", timeout=60) as r:
                    return r.status
            except urllib.error.HTTPError as error:
                return error.code

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(call, range(40)))
    assert sorted(codes) == [200] * 20 + [429] * 20
