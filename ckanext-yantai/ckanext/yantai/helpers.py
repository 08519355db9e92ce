"""Template helpers (registered by the plugin as h.yantai_*)."""
from __future__ import annotations

from typing import Any

from ckanext.yantai import vocabularies


def yantai_vocabulary_choices(field: dict[str, Any]) -> list[dict[str, Any]]:
    """Scheming ``choices_helper``: the choices of the vocabulary named by the field."""
    return vocabularies.choices(field["vocabulary"])


def yantai_vocabulary_label(vocabulary: str, value: str, lang: str = "zh_Hans_CN") -> str:
    return vocabularies.label(vocabulary, value, lang)


__all__ = ["yantai_vocabulary_choices", "yantai_vocabulary_label"]
