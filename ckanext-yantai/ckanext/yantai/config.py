"""The extension's settings: the only module that reads them (declared in
config_declaration.yaml)."""
from __future__ import annotations

import logging
from pathlib import Path

import ckan.plugins.toolkit as tk
from ckan.exceptions import CkanConfigurationException

from ckanext.yantai import classified, feedsafety, netguard, previews, workdays
from ckanext.yantai import search_limits as search_limits_rules
from ckanext.yantai.messages import bilingual

log = logging.getLogger(__name__)

# The services outbound requests never reach (netguard.Policy.protected): option, default port.
_SERVICE_URLS = (("ckan.site_url", None), ("solr_url", 8983), ("ckan.redis.url", 6379),
                 ("sqlalchemy.url", 5432), ("ckan.datastore.write_url", 5432),
                 ("ckan.datastore.read_url", 5432), ("ckanext.yantai.credit.endpoint", None))


def _allow_list(key: str) -> tuple[netguard.AllowEntry, ...]:
    """An allow-list option parsed (checked at start-up by ``check_endpoint_lists``; parsed again
    here because tests and commands may change the value later).

    Raises:
        netguard.ConfigError: An entry that does not name a host and port or a URL prefix.
    """
    return netguard.parse_allow_list(tk.aslist(tk.config.get(key) or []))


_ENDPOINT_LISTS = ("ckanext.yantai.harvest.allowed_hosts",
                   "ckanext.yantai.linkcheck.allowed_hosts", "ckanext.yantai.netguard.protected")


def check_endpoint_lists() -> None:
    """At start-up (the plugin's ``configure``): every allow-list entry names a host and port or
    a URL prefix, so that a bare host or a network stops the portal with a clear message
    instead of opening every service on it. (Not a declaration validator: CKAN 2.11 validates
    declarations before it knows the plugins' validators.)

    Raises:
        CkanConfigurationException: The option and entry, in Chinese and English.
    """
    for key in _ENDPOINT_LISTS:
        try:
            netguard.parse_allow_list(tk.aslist(tk.config.get(key) or []))
        except netguard.ConfigError as error:
            text = bilingual(f"netguard_{error.code}", option=key, entry=error.entry)
            log.critical("%s", text)
            raise CkanConfigurationException(text) from None


def protected_services() -> tuple[netguard.Endpoint, ...]:
    """The portal's own services: its Solr, Redis, PostgreSQL and DataStore, the portal itself,
    the credit receiver, the harvest queue, and what ``ckanext.yantai.netguard.protected``
    adds (the web server's own listening port behind a proxy, for one)."""
    endpoints = [netguard.endpoint_of_url(str(tk.config.get(key) or ""), port)
                 for key, port in _SERVICE_URLS]
    mq_host = tk.config.get("ckan.harvest.mq.hostname")
    if mq_host:
        endpoints.append(netguard.endpoint_of_url(
            f"redis://{mq_host}:{tk.config.get('ckan.harvest.mq.port') or 6379}"))
    for entry in tk.aslist(tk.config.get("ckanext.yantai.netguard.protected") or []):
        endpoints.append(netguard.parse_allow_entry(entry).endpoint)
    return tuple(dict.fromkeys(e for e in endpoints if e is not None))


def linkcheck_policy() -> netguard.Policy:
    """Where resource checks may go (``ckanext.yantai.linkcheck.allowed_hosts``)."""
    return netguard.Policy(_allow_list("ckanext.yantai.linkcheck.allowed_hosts"),
                           protected_services())


def datastore_max_bytes() -> int:
    return tk.config.get("ckanext.yantai.datastore.max_bytes")


def datastore_load_on_update() -> bool:
    return tk.config.get("ckanext.yantai.datastore.load_on_update")


def datastore_load_timeout() -> int:
    return tk.config.get("ckanext.yantai.datastore.load_timeout")


def linkcheck_timeout() -> int:
    return tk.config.get("ckanext.yantai.linkcheck.timeout")


def linkcheck_on_update() -> bool:
    return tk.config.get("ckanext.yantai.linkcheck.on_update")


def access_authority_org() -> str:
    return tk.config.get("ckanext.yantai.access.authority_org")


def quotas_enabled() -> bool:
    return tk.asbool(tk.config.get("ckanext.yantai.quota.enabled"))


def quota(kind: str, user: bool) -> str:
    """A quota in the ``limits`` notation: kind api, sql or export, for users or anonymous."""
    return str(tk.config.get(f"ckanext.yantai.quota.{kind}.{'user' if user else 'anonymous'}"))


def quota_export_rows() -> int:
    """Rows above which a datastore_search counts as an export."""
    return tk.asint(tk.config.get("ckanext.yantai.quota.export_rows"))


def credit_report_font() -> str:
    return str(tk.config.get("ckanext.yantai.credit.report_font"))


def compress_responses() -> bool:
    return tk.asbool(tk.config.get("ckanext.yantai.compress"))


def dcat_uri_base() -> str:
    return str(tk.config.get("ckanext.yantai.dcat.uri_base") or "")


def dcat_catalogue_licence() -> str:
    return str(tk.config.get("ckanext.yantai.dcat.catalogue_licence") or "")


def access_review_workdays() -> int:
    return tk.config.get("ckanext.yantai.access.review_workdays")


def data_request_answer_workdays() -> int:
    return tk.config.get("ckanext.yantai.data_request.answer_workdays")


def access_max_months() -> int:
    return tk.config.get("ckanext.yantai.access.max_months")


def calendar_path() -> str | None:
    """A working-day table whose years replace or extend the shipped one (None: shipped only)."""
    return tk.config.get("ckanext.yantai.calendar.path") or None


def calendar() -> workdays.Calendar:
    """The portal's working days: the shipped table, then ``ckanext.yantai.calendar.path`` if set
    (read again when a file changes).

    Raises:
        CalendarError: A table is malformed (the error names the file and the year).
        OSError: A table is missing or unreadable, e.g. a wrong ``ckanext.yantai.calendar.path``.
    """
    paths = [workdays.SHIPPED_TABLE]
    if extra := calendar_path():
        paths.append(Path(extra))
    return workdays.calendar_of(*paths)


def credit_endpoint() -> str | None:
    """The credit site's receiving service (None: pushes wait until it is configured)."""
    return tk.config.get("ckanext.yantai.credit.endpoint") or None


def credit_token() -> str | None:
    return tk.config.get("ckanext.yantai.credit.token") or None


def credit_timeout() -> int:
    return tk.config.get("ckanext.yantai.credit.timeout")


def credit_attempts() -> int:
    return tk.config.get("ckanext.yantai.credit.attempts")


def harvest_policy() -> netguard.Policy:
    """Where harvest sources may be fetched from (``ckanext.yantai.harvest.allowed_hosts``)."""
    return netguard.Policy(_allow_list("ckanext.yantai.harvest.allowed_hosts"),
                           protected_services())


def harvest_limits() -> dict[str, float]:
    """The bounds of every download a harvester makes (``netguard.fetch``'s arguments)."""
    return {"max_bytes": tk.config.get("ckanext.yantai.harvest.max_bytes"),
            "connect_timeout": tk.config.get("ckanext.yantai.harvest.connect_timeout"),
            "read_timeout": tk.config.get("ckanext.yantai.harvest.read_timeout"),
            "deadline": tk.config.get("ckanext.yantai.harvest.deadline")}


def upload_limits() -> classified.UploadLimits:
    """How much of an upload the classified firewall reads through (``ckanext.yantai.upload.*``)."""
    return classified.UploadLimits(
        max_bytes=tk.config.get("ckanext.yantai.upload.max_bytes"),
        archive=feedsafety.ArchiveLimits(
            max_bytes=tk.config.get("ckanext.yantai.upload.max_expanded_bytes")),
        sheets=feedsafety.SheetLimits(
            max_cells=tk.config.get("ckanext.yantai.upload.max_sheet_cells")))


def preview_limits() -> previews.Limits:
    """How much of an uploaded file a table preview reads and shows
    (``ckanext.yantai.preview.*``)."""
    def option(name: str) -> int:
        return int(tk.config.get(f"ckanext.yantai.preview.{name}"))

    return previews.Limits(max_rows=option("max_rows"), max_columns=option("max_columns"),
                           max_cell_chars=option("max_cell_chars"),
                           text_bytes=option("text_bytes"), file_bytes=option("file_bytes"))


def harvest_drop_folder() -> str | None:
    return tk.config.get("ckanext.yantai.harvest.drop_folder") or None


def search_limits() -> search_limits_rules.Limits:
    """The bounds of every search parameter, before anything reaches Solr."""
    key = "ckanext.yantai.search."
    return search_limits_rules.Limits(
        q_length=tk.config.get(key + "q_max_length"), q_terms=tk.config.get(key + "q_max_terms"),
        fq_length=tk.config.get(key + "fq_max_length"),
        fq_terms=tk.config.get(key + "fq_max_terms"), start=tk.config.get(key + "start_max"),
        facet_fields=tk.config.get(key + "facet_fields_max"),
        facet_limit=tk.config.get(key + "facet_limit_max"))


def trusted_proxies() -> int:
    """Reverse proxies in front of CKAN whose X-Forwarded-For and -Proto are believed."""
    return max(0, tk.config.get("ckanext.yantai.trusted_proxies"))


def home_cache_seconds() -> int:
    """How long the home page's figures are kept per visitor (0: computed on every view)."""
    return tk.config.get("ckanext.yantai.home.cache_seconds")


def portal_operator() -> str:
    return tk.config.get("ckanext.yantai.portal.operator") or ""


def portal_contact() -> str:
    return tk.config.get("ckanext.yantai.portal.contact") or ""


def portal_email() -> str:
    return tk.config.get("ckanext.yantai.portal.email") or ""


def portal_credit_url() -> str:
    return tk.config.get("ckanext.yantai.portal.credit_url") or ""


def portal_icp() -> str:
    return tk.config.get("ckanext.yantai.portal.icp") or ""


# -- CKAN's own options that the portal's code reads ---------------------------------------------

def site_id() -> str:
    return tk.config["ckan.site_id"]


def site_url() -> str:
    return tk.config["ckan.site_url"].rstrip("/")


def default_locale() -> str:
    return tk.config.get("ckan.locale_default") or "zh_Hans_CN"


def search_include_private() -> bool:
    return tk.config.get("ckan.search.default_include_private")


def search_query_parsers() -> frozenset[str]:
    """Solr local-parameter parsers CKAN lets through (ckan.search.solr_allowed_query_parsers)."""
    return frozenset(tk.config["ckan.search.solr_allowed_query_parsers"])


def search_rows_max() -> int:
    return tk.config["ckan.search.rows_max"]


def database_url() -> str:
    return tk.config["sqlalchemy.url"]
