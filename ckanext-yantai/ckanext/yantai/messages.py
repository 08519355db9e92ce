"""User-facing messages of the catalogue rules, keyed by the error codes of ``codes.py``.

The texts are i18n message ids; the zh_Hans_CN catalogue (i18n/) gives their Chinese, which is what
users see by default, in the UI and in API error responses alike.
"""
from __future__ import annotations

import gettext
import os

import ckan.plugins.toolkit as tk

_I18N = os.path.join(os.path.dirname(__file__), "i18n")

MESSAGES = {
    "uscc_length": "A unified social credit code has 18 characters",
    "uscc_characters": ("A unified social credit code has digits and capital letters other than "
                        "I, O, Z, S and V"),
    "uscc_checksum": "This unified social credit code fails its check digit (GB 32100-2015)",
    "resource_code_format": ("A resource code is the classification code, a slash and a sequence "
                             "number of 4 to 8 digits, e.g. 2-02-003/0001"),
    "resource_code_category": ("The resource code must begin with the resource's classification "
                               "code"),
    "resource_code_taken": "Another dataset already has this resource code",
    "category_format": ("A classification code is class (1 base, 2 thematic, 3 departmental), "
                        "item, catalogue and optional sub-catalogue, e.g. 2-02-003"),
    "phone_mobile": "Give a department office's phone number, not a mobile phone",
    "phone_format": "This is not a phone number (e.g. 0535-6788888 or 12345)",
    "required_when": "Required when {field} is {value}",
    "required_unless": "Required unless {field} is {value}",
    "classified_marking": ("Classification markings (such as 秘密★, 机密 or 绝密) are not allowed: "
                           "this portal is a non-classified system, and classified data belongs "
                           "on an isolated network"),
    "classified": ("This portal is a non-classified system: classified data must not be "
                   "published here"),
    "temporal_order": "The end of the time range is before its start",
    "not_in_vocabulary": "Value must be one of {choices}",
    "licence_unknown": ("Unknown licence {value}: choose one of the portal's licences, or leave "
                        "it empty for the licence the open type implies"),
    "licence_open_type": ("The licence {licence} does not fit the open type {open_type}: open data "
                          "carry an open licence, conditionally open data the conditional use "
                          "agreement, data not open the government sharing terms; leave it empty "
                          "for the licence the open type implies"),
    "dcat_profiles": "Unknown DCAT profile: choose from {choices}",
    "quota_exceeded": ("Too many requests: at most {limit} in this period; try again in {seconds} "
                       "s, or ask the portal for an API token with a larger quota"),
    "api_unknown_action": "Unknown API action {name}: see the developer documentation",
    "api_post_only": ("The action {name} changes data: call it with POST (a JSON body) and an "
                      "API token"),
    "request_unstorable": ("The request holds a character no text can store (NUL, or half of "
                           "a UTF-16 surrogate pair such as \\ud800): remove it and send again"),
    "api_too_large": ("The request is larger than the portal takes in a form (a field at most "
                      "500 KB, a file at most {mb} MB): send long values in a JSON body, and a "
                      "large file as a link"),
    "api_no_such_path": ("No such API address: actions are called as /api/3/action/<name> "
                         "(see the developer documentation)"),
    "api_method": "The method {method} is not allowed at this API address",
    "api_http_error": "The API cannot answer this request (HTTP {code})",
    "param_flag": "Give true or false (or 1 or 0)",
    "data_request_login": "Log in to ask for data, report an error or follow a request",
    "data_request_length": "Give {low} to {high} characters",
    "data_request_department": "Choose a department of this portal",
    "data_request_dataset": "No such dataset, or it is not open to you",
    "data_request_resource": "This dataset has no such resource",
    "data_request_not_found": "Data request not found",
    "data_request_import_only": ("Only system administrators give this, when they import requests "
                                 "from an earlier system"),
    "data_request_created": "Give a past date and time in ISO 8601, e.g. 2026-11-02T09:00:00+08:00",
    "data_request_requester": "No such user",
    "data_request_not_yours": ("Only the department asked, the data authority's reviewers and "
                               "system administrators answer this request"),
    "usage_month": "Give a month as YYYY-MM, not in the future (e.g. 2026-11)",
    "usage_rows": ("Give a list of 1 to 10000 rows, each with day, dataset, views, downloads, "
                   "api_calls"),
    "usage_day": "Give a past day as YYYY-MM-DD",
    "usage_count": "Give counts as whole numbers from 0",
    "application_login": "Log in to submit an application",
    "application_length": "Give {low} to {high} characters",
    "application_not_found": "Application not found",
    "application_datasets_missing": ("Name the datasets the application uses: their names or the "
                                     "addresses of their pages"),
    "application_datasets_text": ("Give the datasets as a list of their names or the addresses "
                                  "of their pages"),
    "application_dataset_unknown": "No such dataset, or it is not open to you: {refs}",
    "application_datasets_many": "An application names at most {max} datasets",
    "application_dataset": "No such dataset, or it is not open to you",
    "application_import_only": ("Only system administrators give this, when they import "
                                "applications from an earlier system"),
    "application_created": ("Give a past date and time in ISO 8601, e.g. "
                            "2026-11-02T09:00:00+08:00"),
    "application_submitter": "No such user",
    "application_not_yours": ("Only the departments whose data it uses, the data authority's "
                              "reviewers and system administrators review an application, never "
                              "the one who submitted it"),
    "application_not_deletable": ("Only its reviewers delete an application, and the one who "
                                  "submitted it while it awaits review"),
    "application_reject_note": "Say why it is not approved: the one who submitted it reads this",
    "link_length": "Give an address of at most {max} characters",
    "link_characters": ("The address holds spaces, invisible characters, quotes, angle brackets "
                        "or backslashes: copy it from the browser's address bar"),
    "link_scheme": "Give the web address of the application, starting with http:// or https://",
    "link_credentials": "The address must not hold a user name or password",
    "link_host": "Give the address of a site on the internet (not a local or private address)",
    "credit_query_missing": ("Give a firm's name or part of it, its unified social credit code, "
                             "or a decision document number"),
    "credit_query_long": "Give at most {max} characters",
    "credit_query_short": ("Give at least {min} characters of a name, a unified social credit "
                           "code, or a decision document number"),
    "credit_code_missing": "Give the unified social credit code of a market entity",
    "credit_not_found": "No market entity with public credit records has this code",
    "table_number": "The table's {key} is a whole number, 0 or more",
    "table_request": "The table could not read this request; reload the page and try again",
    "table_not_found": "No such table view, or it is not open to you",
    "param_whole": "Give a whole number, 0 or more",
    "param_text": "Give text (an identifier or a name), not a number, list or object",
    "federation_unknown_action": ("{name} is not served at the federation address "
                                  "/federation/ckan: it serves {names}"),
    "api_bad_request": "The request is not valid: give the parameters in the query string or as "
                       "a JSON object",
    "api_bad_json": "The request body is not a JSON object (send Content-Type: application/json "
                    "and a body such as {{\"id\": \"...\"}})",
    "info_items_missing": "List at least one information item (the fields of the data)",
    "uscc_org_code": ("The organisation code inside this unified social credit code (positions "
                      "9-17) fails its check digit (GB 11714)"),
    "ric_checksum": "This resident identity number fails its check digit (GB 11643-1999)",
    "ric_format": ("A resident identity number has 18 characters (or 15 digits for old numbers) "
                   "with a valid birth date"),
    "required": "Missing value",
    "license_number_required": ("Give the licensing decision's document number or the licence "
                                "number"),
    "person_with_org_code": ("A natural person has no organisation code: leave the party's codes "
                             "empty and give the identity document"),
    "duplicate_field": "Two columns give different values for this field",
    "date_format": "Not a date (e.g. 2026-03-01)",
    "date_order": "This date is before the date it must follow",
    "decision_in_future": "The decision date is in the future",
    "published_before_decision": "Published before the decision was taken",
    "publicity_too_short": ("The publicity period is shorter than the {months} months that "
                            "{rule} requires"),
    "publicity_too_long": ("The publicity period is longer than the {months} months that {rule} "
                           "allows"),
    "other_unnamed": "\"其他\" must name the category, e.g. 其他-备案",
    "amount_format": "An amount is a number in 10,000 yuan (万元), e.g. 0.5",
    "amount_unit": "Amounts are in 10,000 yuan (万元), not in yuan: divide by 10,000",
    "amount_negative": "An amount cannot be negative",
    "amount_zero": "A fine needs its amount",
    "provider_code_missing": ("Give the provider's unified social credit code (the department "
                              "has none on record)"),
    "harvest_url_scheme": "Harvest sources are http(s) URLs (or drop: folders): {url}",
    "harvest_host_not_found": "The host {host} cannot be found",
    "harvest_address_not_public": ("{host}:{port} is a loopback, private or link-local address: "
                                   "refused unless a system administrator allow-lists this host "
                                   "and port or a URL prefix "
                                   "(ckanext.yantai.harvest.allowed_hosts)"),
    "harvest_protected_service": ("{host}:{port} is one of the portal's own services (search "
                                  "index, database, cache, the portal itself, the credit "
                                  "receiver): never fetched"),
    "harvest_host_invalid": ("{host} is not a valid host name (internationalised names must be "
                             "valid under IDNA)"),
    "harvest_url_invalid": "Not a valid http(s) URL (check the port): {url}",
    "netguard_allow_no_port": ("{option}: the entry {entry} names no port; write host:port (e.g. "
                               "127.0.0.1:8903) or a URL prefix (e.g. "
                               "http://127.0.0.1:8903/feeds/): a bare host would open every "
                               "service on it"),
    "netguard_allow_network": ("{option}: the entry {entry} is a network; name one host and port "
                               "(host:port) or a URL prefix instead"),
    "netguard_allow_ipv6": ("{option}: the IPv6 address in the entry {entry} needs brackets and "
                            "a port, e.g. [::1]:8903"),
    "netguard_allow_port": "{option}: the entry {entry} has no valid port (1 to 65535)",
    "netguard_allow_url": ("{option}: the entry {entry} is not a usable URL prefix (http or "
                           "https, no user name, query, fragment or . and .. segments)"),
    "netguard_allow_host": "{option}: the entry {entry} names no valid host",
    "harvest_too_many_redirects": "Too many redirects: {url}",
    "harvest_too_large": "The file is larger than the limit of {limit}",
    "harvest_timeout": "The source did not answer in time: {url}",
    "harvest_http_status": "The source answered HTTP {status}: {url}",
    "harvest_network": "The source cannot be reached ({error}): {url}",
    "harvest_archive_bad": "The archive cannot be read",
    "harvest_archive_members": "The archive holds more than {limit} files",
    "harvest_archive_too_large": "The archive expands to more than {limit}",
    "harvest_archive_ratio": ("The archive expands more than {ratio} times its size (a "
                              "decompression bomb)"),
    "harvest_xml_entities": "XML with a document type or entity declarations is refused",
    "harvest_drop_disabled": ("Drop folders are not configured on this portal "
                              "(ckanext.yantai.harvest.drop_folder)"),
    "harvest_drop_outside": "The path {path} leaves the drop folder",
    "harvest_drop_missing": "Not found in the drop folder: {path}",
    "harvest_config_json": "The configuration must be a JSON object",
    "harvest_config_unknown": "Unknown configuration key {key} (known: {keys})",
    "harvest_config_type": "The configuration key {key} must be of type {type}",
    "harvest_manifest_json": "The manifest is not valid JSON in UTF-8: {error}",
    "harvest_manifest_format": 'The manifest must declare "format": "{format}"',
    "harvest_manifest_version": ("Manifest version {version} is not supported (supported: "
                                 "{supported})"),
    "harvest_manifest_datasets": 'The manifest must list its datasets under "datasets"',
    "harvest_manifest_publisher": ("The manifest's publisher code {given} is not the code of the "
                                   "source's department ({expected})"),
    "harvest_manifest_empty": ('The manifest lists no datasets: the {count} datasets of this '
                               'source are kept (set "allow_empty": true to withdraw them)'),
    "harvest_entry_not_object": "Entry {index}: not a JSON object",
    "harvest_entry_no_code": "Entry {index}: no resource code (resource_code)",
    "harvest_entry_duplicate": "Entry {index}: resource code {resource_code} is listed twice",
    "harvest_entry_resources": ('Entry {index} ({resource_code}): "resources" must be a list of '
                                'objects with a name'),
    "harvest_entry_resource_twice": ("Entry {index} ({resource_code}): two resources are named "
                                     "{name}"),
    "harvest_entry_file_or_url": ('Entry {index} ({resource_code}): resource {name} needs either '
                                  '"file" or "url"'),
    "harvest_entry_file_relative": ("Entry {index} ({resource_code}): the file of resource "
                                    "{name} must be a path relative to the manifest"),
    "harvest_entry_tags": 'Entry {index} ({resource_code}): "tags" must be a list of words',
    "harvest_entry_classified": ("Entry {index}: refused, it carries a classification marking "
                                 "(this portal is a non-classified system); nothing of it was "
                                 "stored"),
    "harvest_code_elsewhere": ("Resource code {resource_code} belongs to a dataset of another "
                               "department"),
    "harvest_internal": ("The harvester failed unexpectedly ({error}); the portal's "
                         "administrators can find the details in its log"),
    "harvest_file_hash": "The file {file} does not match the SHA-256 the manifest gives",
    "harvest_file_refused": "The file {file} is refused: {reason}",
    "harvest_file_classified": ("The file {file} is refused: it carries a classification marking "
                                "(this portal is a non-classified system); nothing of the "
                                "dataset was changed"),
    "harvest_record_type": "record_type must be license or penalty, not {value}",
    "harvest_record_type_unknown": ("The feed's columns tell neither licensing nor penalty "
                                    "records: name record_type in the source's configuration"),
    "harvest_resource_wrong": ("Resource {resource} is not a {kind} resource of the source's "
                               "department"),
    "harvest_resource_count": ("The source's department has {count} {kind} resources: it needs "
                               "exactly one, or name it as resource_id in the source's "
                               "configuration"),
    "harvest_row": "Row {row}: {reasons}",
    "harvest_feed_json": "The feed is not valid JSON: {error}",
    "harvest_feed_json_shape": 'A JSON feed is a list of records (objects) or {"records": [...]}',
    "harvest_feed_empty": "The feed has no records",
    "harvest_row_classified": ("Row {row}: refused, it carries a classification marking (this "
                               "portal is a non-classified system); nothing of it was stored"),
    "harvest_row_provider_unknown": "Row {row}: no department has the provider code {code}",
    "harvest_row_provider_other": ("Row {row}: the provider code {code} is another department's; "
                                   "only the data authority's catalogue may list other "
                                   "departments' resources"),
    "harvest_row_item": ('Row {row}: the information item "{item}" needs its data type, e.g. '
                         '线路名称（字符型）'),
    "harvest_catalogue_workbook": "The catalogue cannot be read as an XLSX workbook",
    "harvest_catalogue_columns": ("No sheet of the workbook has the guide's columns (信息资源代码, "
                                  "信息资源名称, …)"),
    "harvest_drop_department": ("A department's drop folder is drop:{folder} (or a folder inside "
                                "it): its URL name"),
    "harvest_jsonld_bad": "The JSON-LD document is not valid JSON",
    "harvest_jsonld_remote_context": ("JSON-LD that names a remote @context is refused (the "
                                      "parser would fetch it from another address)"),
    "harvest_mapping_missing": ("The configuration needs \"yantai\", the mapping into the "
                                "portal's schema, with at least \"open_type\" and \"share_type\""),
    "harvest_mapping_key": ("Unknown key {key} in \"yantai\" (known: open_type, share_type, "
                            "defaults, values)"),
    "harvest_mapping_tier": "\"yantai\".\"{key}\" must be one of {choices}",
    "harvest_mapping_shape": "\"defaults\" and \"values\" of \"yantai\" must be JSON objects",
    "harvest_mapping_default": ("\"{key}\" cannot be a default of \"yantai\": defaults are "
                                "fields of the dataset schema other than resource_code, "
                                "open_type, share_type and security_class"),
    "harvest_mapping_value": "\"{value}\" is not a value of {key}",
    "harvest_mapping_values": ("\"values\" of \"yantai\" maps vocabulary fields only "
                               "(update_cycle, share_type, share_method, open_type, region, "
                               "domain), not {key}"),
    "harvest_mapping_condition": ("A source capped below the most open tier needs "
                                  "\"defaults\".\"{key}\": the condition its datasets carry"),
    "harvest_remote_value": ("{field}: the remote value {value} has no counterpart in the "
                             "portal; map it under \"values\" in the source's configuration"),
    "harvest_remote_resource_url": "resource {name}: {url} is not an http(s) address",
    "harvest_remote_no_id": ("Dataset {index} ({label}) has no identifier (an id, a URI or "
                             "dct:identifier)"),
    "harvest_remote_entry": "Dataset {index} ({label}): {reasons}",
    "harvest_remote_empty": ("The source lists no datasets: the {count} datasets of this source "
                             "are kept (set \"allow_empty\": true to withdraw them)"),
    "harvest_remote_no_category": ("No classification to number the dataset in: give "
                                   "resource_category in the source's \"yantai\" \"defaults\""),
    "harvest_remote_pages": ("The source's listing runs over {limit} pages: the harvest stopped "
                             "and withdrew nothing"),
    "harvest_ckan_filters": "Give either {kind}_filter_include or {kind}_filter_exclude, not both",
    "harvest_ckan_filter_names": "{key} lists the remote portal's URL names (without spaces)",
    "harvest_ckan_search": "The remote CKAN portal cannot be searched: {error}",
    "harvest_rdf_format": "rdf_format {value} is not a format the RDF parser reads",
    "harvest_rdf_parse": "The catalogue cannot be read as RDF: {error}",
    "harvest_remote_department": ("Another portal's datasets go to a department: choose the "
                                  "source's organization"),
    "harvest_remote_code_twice": ("resource code {code} is listed for another dataset of the "
                                  "source already"),
    "harvest_remote_moved": ("The dataset {name} harvested before belongs to another department "
                             "(the source's department changed): move or withdraw it first"),
    "harvest_remote_code_harvested": ("Resource code {resource_code} belongs to a dataset "
                                      "another harvest source keeps"),
    "harvest_ckan_response": ("The remote portal's package_search answer is not the CKAN Action "
                              "API's JSON"),
    "harvest_ckan_user_agent": "user_agent may not contain control characters",
    "harvest_rdf_dataset": ("A dataset of the catalogue cannot be read ({error}); nothing was "
                            "withdrawn"),
    # Files that cannot be read to their end (feedsafety.Unsafe codes; uploads and harvests)
    "upload_unreadable": ("The file is refused: it cannot be read to its end to check it for "
                          "classification markings ({reason})"),
    "harvest_archive_encrypted": "The archive or a file in it is protected by a password",
    "harvest_archive_depth": "The archive holds archives nested more than {limit} levels deep",
    "harvest_encrypted": "The document is protected by a password",
    "harvest_sheet_rows": "A worksheet goes past row {limit}",
    "harvest_sheet_columns": "A worksheet goes past column {limit}",
    "harvest_sheet_cells": "The workbook holds more than {limit} cells: send it in parts",
}


def message(code: str, /, **params: str) -> str:
    return tk._(MESSAGES[code]).format(**params)


def bilingual(code: str, /, **params: str) -> str:
    """Chinese and English, for messages outside any request (start-up errors in the log): read
    from the compiled catalogue, since CKAN's translations need a request."""
    english = MESSAGES[code]
    catalogue = gettext.translation("ckanext-yantai", _I18N, ["zh_Hans_CN"], fallback=True)
    chinese = catalogue.gettext(english)
    texts = [chinese, english] if chinese != english else [english]
    return " / ".join(text.format(**params) for text in texts)


def rule_label(code: str) -> str:
    """A rule's message as a label (placeholders shown as …), for figures by rule; an unknown code
    as itself."""
    if code not in MESSAGES:
        return code
    return message(code, **{k: "…" for k in ("field", "value", "choices", "months", "rule")})
