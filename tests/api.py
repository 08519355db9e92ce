"""Calling the Action API through CKAN's test app, as an API user would (real request handling,
authentication, locale)."""
from __future__ import annotations

from typing import Any

import pytest
from ckan.tests import factories


class Api:
    def __init__(self, app: Any, token: str | None) -> None:
        self.app = app
        self.headers = {"Authorization": token} if token else {}

    def call(self, action: str, **data: Any) -> dict[str, Any]:
        """The JSON answer of an action (success or not)."""
        resp = self.app.post(f"/api/3/action/{action}", json=data, headers=self.headers,
                             status=None)
        return resp.json

    def ok(self, action: str, **data: Any) -> Any:
        body = self.call(action, **data)
        assert body["success"] is True, body
        return body["result"]

    def errors(self, action: str, **data: Any) -> dict[str, Any]:
        body = self.call(action, **data)
        assert body["success"] is False, body
        return body["error"]


@pytest.fixture
def sysadmin_api(app) -> Api:
    return Api(app, factories.SysadminWithToken()["token"])
