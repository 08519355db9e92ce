"""The licence rule (pure): the licence an open type implies, and whether a licence agrees."""
from __future__ import annotations

import pytest

from ckanext.yantai import vocabularies
from ckanext.yantai.disclosure import standard

OPEN = frozenset({"cc-by", "cc-zero"})


def test_every_open_type_implies_a_licence():
    assert {vocabularies.default_licence(t.value) for t in vocabularies.OPEN_TYPES} \
        == {"cc-by", "yantai-conditional-1.0", "yantai-government-1.0"}
    assert vocabularies.default_licence("open") == "cc-by"
    assert vocabularies.default_licence("conditional") == "yantai-conditional-1.0"
    assert vocabularies.default_licence("closed") == "yantai-government-1.0"
    assert vocabularies.default_licence(None) is None
    assert vocabularies.default_licence("secret") is None


@pytest.mark.parametrize("open_type", [t.value for t in vocabularies.OPEN_TYPES])
def test_the_implied_licence_agrees_with_its_open_type(open_type):
    licence = vocabularies.default_licence(open_type)
    assert vocabularies.licence_fits(open_type, licence, OPEN | {"cc-by"})


@pytest.mark.parametrize("open_type, licence, fits", [
    ("open", "cc-zero", True), ("open", "other-closed", False), ("open", "notspecified", False),
    ("open", "yantai-conditional-1.0", False),
    ("conditional", "cc-by", False), ("conditional", "yantai-conditional-1.0", True),
    ("conditional", "yantai-government-1.0", False), ("conditional", "other-closed", False),
    ("closed", "cc-zero", False), ("closed", "yantai-government-1.0", True),
    ("closed", "yantai-conditional-1.0", False), ("closed", "", False),
    (None, "cc-by", True), (None, "other-closed", False),
])
def test_whether_a_licence_agrees(open_type, licence, fits):
    assert vocabularies.licence_fits(open_type, licence, OPEN) is fits


@pytest.mark.pure
def test_the_record_type_vocabulary_is_the_rules_record_types():
    assert tuple(t.value for t in vocabularies.RECORD_TYPES) == standard.RECORD_TYPES
