"""The Action API's and CKAN's JS plumbing, fixed: request bodies nested too deep are a 400,
and CKAN's JS translations are found under any spelling of the page's locale."""
from __future__ import annotations

import functools
from typing import Any

from ckan.lib.i18n import get_locales_from_config
from flask.json.provider import DefaultJSONProvider

from ckanext.yantai import params


def locale_tagged(original: Any) -> Any:
    """CKAN's JS translations for the page's locale. CKAN writes the locale into the page as a
    BCP-47 tag (``zh-Hans-CN``) and its JS client turns back only the first hyphen, so it asks
    for ``zh_Hans-CN``, which the route does not know (400, and no JS module starts). Any
    spelling of a configured locale (hyphens or underscores) is served as that locale."""

    @functools.wraps(original)
    def i18n_js_translations(lang: str, *args: Any, **kwargs: Any) -> Any:
        wanted = lang.replace("-", "_").casefold()
        for locale in get_locales_from_config():
            if locale.casefold() == wanted:
                lang = locale
                break
        return original(lang, *args, **kwargs)

    return i18n_js_translations


class BoundedJSON(DefaultJSONProvider):
    """Request bodies nested too deep are bad JSON (CKAN answers 400), not a RecursionError in
    the parser or in whatever walks the value later (500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if params.too_deep(value):
            raise ValueError(f"JSON nested more than {params.MAX_DEPTH} levels deep")
        return value


def install(app: Any) -> None:
    app.json = BoundedJSON(app)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api.") and getattr(view, "__name__", None) == \
                "i18n_js_translations":
            app.view_functions[endpoint] = locale_tagged(view)
