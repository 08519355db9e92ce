"""Template helpers (registered by the plugin as h.yantai_*)."""
from __future__ import annotations

from typing import Any

from ckanext.yantai import vocabularies


def yantai_vocabulary_choices(field: dict[str, Any]) -> list[dict[str, Any]]:
    """Scheming ``choices_helper``: the choices of the vocabulary named by the field."""
    return vocabularies.choices(field["vocabulary"])


def yantai_vocabulary_label(vocabulary: str, value: str, lang: str = "zh_Hans_CN") -> str:
    return vocabularies.label(vocabulary, value, lang)


def yantai_quality(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """The dataset's quality for its page: score, issues with labels, missing fields, last update."""
    import ckan.plugins.toolkit as tk

    from ckanext.yantai import quality, quality_index

    result = quality_index.assess(pkg_dict)
    return {
        "score": result.score,
        "issues": [{"code": code, "label": tk._(quality.ISSUE_LABELS[code])}
                   for code in result.issues],
        "missing_fields": result.missing_fields,
        "last_updated": result.last_updated,
        "overdue_days": result.overdue_days,
    }


def yantai_department_quality(organization: str) -> dict[str, Any] | None:
    """The department's line of yantai_quality_summary, as the current user may see it."""
    import ckan.plugins.toolkit as tk

    summary = tk.get_action("yantai_quality_summary")({}, {"organization": organization})
    return summary[0] if summary else None


def yantai_issue_label(code: str) -> str:
    import ckan.plugins.toolkit as tk

    from ckanext.yantai import quality

    return tk._(quality.ISSUE_LABELS.get(code, code))


__all__ = ["yantai_vocabulary_choices", "yantai_vocabulary_label", "yantai_quality",
           "yantai_department_quality", "yantai_issue_label"]
