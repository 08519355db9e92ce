"""Validators of the catalogue schemas (registered by the plugin; used by name in schemas/*.yaml)
and of the API actions' parameters (``logic/schema.py``).

The rules themselves are pure functions in ``codes.py``; these adapt them to CKAN's navl validators,
normalise what people type, and look up what needs the database (uniqueness, the department's code).
"""
from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.types import Context, FlattenDataDict, FlattenErrorDict, FlattenKey
from ckanext.scheming.validation import scheming_validator

from ckanext.yantai import codes, params, quality_index, vocabularies
from ckanext.yantai.messages import message

Validator = Callable[[FlattenKey, FlattenDataDict, FlattenErrorDict, Context], Any]
missing = tk.missing


def _blank(value: Any) -> bool:
    if value is missing or value is None:
        return True
    if isinstance(value, str):
        return value.strip() in ("", "[]")
    if isinstance(value, (list, tuple)):
        return not any(not _blank(v) for v in value)
    return False


def _stop(key: FlattenKey, errors: FlattenErrorDict, text: str) -> None:
    errors[key].append(text)
    raise tk.StopOnError


def _checked(error_of: Callable[[str], str | None], normalise: Callable[[str], str]) -> Validator:
    """A validator from a pure rule: blank passes, an error stops, a good value is normalised."""
    def validator(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                  context: Context) -> None:
        value = data.get(key)
        if _blank(value):
            return
        error = error_of(str(value))
        if error:
            _stop(key, errors, message(error))
        data[key] = normalise(str(value))

    return validator


yantai_uscc = _checked(codes.uscc_error, codes.normalise_uscc)
yantai_uscc.__doc__ = """A unified social credit code, stored normalised (half-width, upper case,
no separators)."""
yantai_office_phone = _checked(codes.office_phone_error, lambda v: codes.fold_width(v).strip())
yantai_office_phone.__doc__ = """A department office's phone number (never a mobile phone)."""
yantai_resource_category = _checked(
    lambda v: None if codes.parse_category(v) else "category_format",
    lambda v: codes.parse_category(v).code)  # type: ignore[union-attr]
yantai_resource_category.__doc__ = """信息资源分类 (类-项-目[-细目]), stored normalised."""


def yantai_provider_code(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                         context: Context) -> None:
    """信息资源提供方代码: defaults to the owning department's code, then must be a valid USCC."""
    if _blank(data.get(key)):
        org = model.Group.get(data.get(("owner_org",)) or "")
        dept_code = org.extras.get("dept_code") if org else None
        if not dept_code:
            _stop(key, errors, message("provider_code_missing"))
        data[key] = dept_code
    yantai_uscc(key, data, errors, context)


def yantai_resource_code(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                         context: Context) -> None:
    """信息资源代码: classification code + sequence, matching the category, unique among
    datasets."""
    value = data.get(key)
    if _blank(value):
        return
    code = codes.normalise_code(str(value))
    category = data.get(("resource_category",))
    error = codes.resource_code_error(code, None if _blank(category) else str(category))
    if error:
        _stop(key, errors, message(error))
    this_id = data.get(("id",)) or getattr(context.get("package"), "id", None)
    # Serialise concurrent saves of the same code until this transaction ends, so that two
    # parallel creates cannot both pass the check below.
    model.Session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:code))"),
                          {"code": f"yantai.resource_code:{code}"})
    taken = (
        model.Session.query(model.Package.id)
        .join(model.PackageExtra, model.PackageExtra.package_id == model.Package.id)
        .filter(model.PackageExtra.key == "resource_code", model.PackageExtra.value == code,
                model.PackageExtra.state == "active", model.Package.state != "deleted")
    )
    if this_id:
        taken = taken.filter(model.Package.id != this_id)
    if taken.first():
        _stop(key, errors, message("resource_code_taken"))
    data[key] = code


def yantai_resource_codes(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                          context: Context) -> None:
    """关联资源代码: each a well-formed resource code (they may point outside this portal)."""
    value = data.get(key)
    if _blank(value):
        return
    items = [str(v).strip() for v in value if not _blank(v)] if isinstance(value, list) \
        else _json_list(str(value))
    for item in items:
        if codes.resource_code_error(str(item), None):
            _stop(key, errors, f"{item}: {message('resource_code_format')}")
    data[key] = json.dumps([codes.normalise_code(str(i)) for i in items])


def _json_list(value: str) -> list[str]:
    try:
        loaded = json.loads(value)
    except ValueError:
        loaded = value.split(",")
    items = loaded if isinstance(loaded, list) else [loaded]
    return [str(i).strip() for i in items if str(i).strip()]


def yantai_non_classified(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                          context: Context) -> None:
    """涉密属性: the portal is a 非涉密 system; any classified marking is refused."""
    value = data.get(key)
    if _blank(value):
        data[key] = "non_classified"
    elif value != "non_classified":
        _stop(key, errors, message("classified"))


@scheming_validator
def yantai_vocabulary(field: dict[str, Any], schema: dict[str, Any]) -> Validator:
    """A code from the field's ``vocabulary`` (vocabularies.py); one code, or a list when the field
    has ``multiple: true``."""
    allowed = vocabularies.values(field["vocabulary"])
    multiple = bool(field.get("multiple"))

    def validator(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                  context: Context) -> None:
        value = data.get(key)
        if _blank(value):
            return
        if multiple:
            items = [str(v).strip() for v in value] if isinstance(value, list) \
                else _json_list(str(value))
        else:
            items = [str(value).strip()]
        bad = [v for v in items if v not in allowed]
        if bad:
            _stop(key, errors, f"{', '.join(bad)}: " + message(
                "not_in_vocabulary", choices=", ".join(sorted(allowed))))
        # Multiple values are stored as a JSON list, as scheming's multiple-choice fields are.
        data[key] = json.dumps(sorted(set(items), key=items.index)) if multiple else items[0]

    return validator


def yantai_licence(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                   context: Context) -> None:
    """开放许可协议: one of the licence register's; left empty (or 未指定), the licence the open
    type implies (``vocabularies.default_licence``), on every path that saves a dataset (form,
    API, harvest). A draft without an open type yet keeps it empty until the open type is given."""
    value = data.get(key)
    licence = "" if _blank(value) else str(value).strip()
    if licence in vocabularies.UNSPECIFIED_LICENCES:
        open_type = data.get(("open_type",))
        data[key] = vocabularies.default_licence(
            open_type.strip() if isinstance(open_type, str) else None) or ""
        return
    if model.Package.get_license_register().get(licence) is None:
        _stop(key, errors, message("licence_unknown", value=licence[:100]))
    data[key] = licence


@scheming_validator
def yantai_required_when(field: dict[str, Any], schema: dict[str, Any]) -> Validator:
    """Required when another field has a value (``required_when: {field, value}``) or unless it has
    one (``required_unless: {field, value}``); otherwise optional."""
    when, unless = field.get("required_when"), field.get("required_unless")
    rule = when or unless
    if not rule:
        raise ValueError(f"{field['field_name']}: yantai_required_when needs required_when or "
                         "required_unless")
    other = next(f for f in schema.get("dataset_fields", []) if f["field_name"] == rule["field"])
    value_label = vocabularies.label(other.get("vocabulary", ""), rule["value"]) \
        if other.get("vocabulary") else rule["value"]

    def validator(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                  context: Context) -> None:
        matches = data.get((rule["field"],)) == rule["value"]
        needed = (matches if when else not matches) and not _is_draft(data, context)
        if needed and _blank(data.get(key)):
            code = "required_when" if when else "required_unless"
            field_label = other.get("label", rule["field"])
            if isinstance(field_label, dict):
                field_label = field_label.get("zh_Hans_CN") or next(iter(field_label.values()))
            _stop(key, errors, message(code, field=str(field_label), value=value_label))
        if _blank(data.get(key)):
            data[key] = ""

    return validator


def _is_draft(data: FlattenDataDict, context: Context | None = None) -> bool:
    """A draft: saved page by page by the multi-page form. An update that does not give a state
    keeps the dataset's own."""
    state = data.get(("state",))
    package = context.get("package") if context is not None else None
    if _blank(state) and package is not None:
        state = package.state
    return state == "draft"


@scheming_validator
def yantai_required(field: dict[str, Any], schema: dict[str, Any]) -> Validator:
    """Required (when the field says so) once the dataset is complete: a draft, saved page by page
    by the multi-page form, may still lack the fields of later pages."""
    required = bool(field.get("required"))

    def validator(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                  context: Context) -> None:
        if not _blank(data.get(key)):
            return
        data.pop(key, None)
        if required and not _is_draft(data, context):
            errors[key].append(tk._("Missing value"))
        raise tk.StopOnError

    return validator


def yantai_info_items_required(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                               context: Context) -> None:
    """信息项 is core metadata: a complete dataset lists at least one item (schema
    after_validators)."""
    if _is_draft(data, context):
        return
    if not any(k[0] == "info_items" and k[-1] == "name" and not _blank(v)
               for k, v in data.items() if isinstance(k, tuple) and len(k) == 3):
        errors.setdefault(("info_items",), []).append(message("info_items_missing"))


def yantai_licence_fits(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                        context: Context) -> None:
    """The licence agrees with the (validated) open type (schema after_validators): an open
    licence on data given only on conditions would license what the conditions forbid. A change
    of the open type that leaves the stored licence as it was takes the new open type's licence
    (the licence follows the open type); a licence chosen against the open type is refused."""
    licence, open_type = data.get(("license_id",)), data.get(("open_type",))
    if _blank(licence) or _blank(open_type) or errors.get(("license_id",)) \
            or errors.get(("open_type",)):
        return
    licence, open_type = str(licence), str(open_type)
    if vocabularies.licence_fits(open_type, licence, quality_index.open_licences()):
        return
    stored = context.get("package")
    if isinstance(stored, model.Package) and stored.license_id == licence \
            and stored.extras.get("open_type") != open_type:
        data[("license_id",)] = vocabularies.default_licence(open_type) or ""
        return
    errors.setdefault(("license_id",), []).append(message(
        "licence_open_type", licence=licence[:100],
        open_type=vocabularies.label("open_type", open_type)))


def yantai_temporal_end(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                        context: Context) -> None:
    start, end = data.get(("temporal_start",)), data.get(key)
    if _blank(start) or _blank(end):
        return
    # Both are dates by now, or ISO strings: compare their calendar days.
    if str(end)[:10] < str(start)[:10]:
        _stop(key, errors, message("temporal_order"))


def _unique_name(base: str, exists: Callable[[str], bool]) -> str:
    for candidate in itertools.chain([base], (f"{base}-{n}" for n in itertools.count(2))):
        if not exists(candidate):
            return candidate
    raise AssertionError("unreachable")


def _name_from_title(kind: str, exists: Callable[[str], bool]) -> Validator:
    def validator(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                  context: Context) -> None:
        if not _blank(data.get(key)):
            return
        current = context.get(kind)
        if current is not None and getattr(current, "name", None):
            data[key] = current.name  # an update without a name keeps the URL
            return
        base = codes.pinyin_slug(str(data.get(("title",)) or ""))
        if len(base) < 2:
            base = f"{'dataset' if kind == 'package' else 'org'}-{base}".rstrip("-")
        data[key] = _unique_name(base, exists)

    return validator


def _package_exists(name: str) -> bool:
    return model.Session.query(model.Package.id).filter_by(name=name).first() is not None


def _group_exists(name: str) -> bool:
    return model.Session.query(model.Group.id).filter_by(name=name).first() is not None


yantai_dataset_name = _name_from_title("package", _package_exists)
yantai_dataset_name.__doc__ = """URL name of a dataset: when not given, the title's pinyin, made
unique with -2, -3…; set once, so renaming the title keeps the URL."""
yantai_group_name = _name_from_title("group", _group_exists)
yantai_group_name.__doc__ = """URL name of a department or group, as yantai_dataset_name."""


FORMAT_CLASS_BY_FORMAT = {
    "CSV": "spreadsheet", "XLS": "spreadsheet", "XLSX": "spreadsheet", "ODS": "spreadsheet",
    "JSON": "self_describing", "XML": "self_describing", "RDF": "self_describing",
    "GEOJSON": "self_describing", "JSON-LD": "self_describing",
    "PDF": "document", "DOC": "document", "DOCX": "document", "TXT": "document",
    "JPG": "image", "JPEG": "image", "PNG": "image", "SHP": "image",
    "MP4": "media", "API": "api", "WMS": "api", "WFS": "api", "SQL": "database",
}


def yantai_text(value: Any) -> Any:
    """A free-text field takes text (a number is kept as its text): a list or an object is
    refused, where CKAN's unicode_safe would store it as JSON text."""
    if isinstance(value, (bool, list, tuple, dict)):
        raise tk.Invalid(tk._("Must be text"))
    if isinstance(value, (int, float)):
        return str(value)
    return value


def yantai_format_class(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict,
                        context: Context) -> None:
    """信息资源格式分类 of a resource: derived from its format when not given."""
    if _blank(data.get(key)):
        fmt = str(data.get(key[:-1] + ("format",)) or "").upper()
        data[key] = FORMAT_CLASS_BY_FORMAT.get(fmt, "other")


URL_NAME = re.compile(r"[a-z0-9_-]{2,100}")  # CKAN's URL names
YES_NO = {"true": True, "1": True, "false": False, "0": False}


# -- API parameters (read strictly by ``params``: a value is taken whole or refused) ------------

def yantai_iso_datetime(value: Any) -> Any:
    """An ISO date or date and time (``params.datetime``), as a naive UTC datetime."""
    moment = params.datetime(value)
    if moment is None:
        raise tk.Invalid(tk._("Give a date as YYYY-MM-DD"))
    return moment


def yantai_department_ref(value: Any) -> Any:
    """A department's URL name as a parameter (text of CKAN's name characters)."""
    if not (isinstance(value, str) and URL_NAME.fullmatch(value)):
        raise tk.Invalid(tk._("Must be a department name"))
    return value


def yantai_month(value: Any) -> Any:
    """A month as exactly YYYY-MM (``params.month``), as its first day."""
    first = params.month(value)
    if first is None:
        raise tk.Invalid(tk._("Give a month as YYYY-MM"))
    return first


def yantai_yes_no(value: Any) -> Any:
    """true or false (also 1 and 0, or a JSON boolean)."""
    flag = YES_NO.get(str(value).lower()) if isinstance(value, (str, bool)) else None
    if flag is None:
        raise tk.Invalid(message("not_in_vocabulary", choices="true, false"))
    return flag


def one_of(choices: Iterable[str]) -> Callable[[Any], Any]:
    """One of ``choices``, as given (text only)."""
    allowed = tuple(choices)

    def validator(value: Any) -> Any:
        if not isinstance(value, str) or value not in allowed:
            raise tk.Invalid(message("not_in_vocabulary", choices=", ".join(allowed)))
        return value

    return validator


def text_value(error: str) -> Callable[[Any], Any]:
    """Any text; anything else is refused with ``error``."""
    def validator(value: Any) -> Any:
        if not isinstance(value, str):
            raise tk.Invalid(error)
        return value

    return validator


def whole_number(low: int, message: str, default: int | None = None,
                 at_most: int | None = None) -> Callable[[Any], Any]:
    """A whole number from ``low`` (``params.whole``), ``default`` when not given (given empty
    is refused), kept within ``at_most`` when there is one."""
    def validator(value: Any) -> Any:
        if value is missing and default is not None:
            return default
        number = params.whole(value, low)
        if number is None:
            raise tk.Invalid(message)
        return min(number, at_most) if at_most is not None else number

    return validator


__all__ = [
    "yantai_uscc", "yantai_provider_code", "yantai_resource_category", "yantai_resource_code",
    "yantai_resource_codes", "yantai_office_phone", "yantai_non_classified", "yantai_vocabulary",
    "yantai_required_when", "yantai_required", "yantai_info_items_required", "yantai_temporal_end",
    "yantai_dataset_name", "yantai_group_name",
    "yantai_format_class", "yantai_text", "yantai_licence", "yantai_licence_fits",
    "yantai_iso_datetime",
    "yantai_department_ref", "yantai_month", "yantai_yes_no",
]
