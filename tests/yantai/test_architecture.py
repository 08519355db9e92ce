"""The package's shape: no import cycle among its modules, so each dependency points one way and
can be read from a module's imports."""
from __future__ import annotations

import grimp
import pytest

pytestmark = pytest.mark.pure

PACKAGE = "ckanext.yantai"


def test_no_module_of_the_package_imports_itself_back():
    graph = grimp.build_graph(PACKAGE)
    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if not imported.startswith(PACKAGE):
                continue
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append(f"{module} -> " + " -> ".join(back))
    assert cycles == []


# -- the 双公示 pipeline --------------------------------------------------------------------------

DISCLOSURE = f"{PACKAGE}.disclosure"
# Its stages, the last first: a stage may import the stages below it, never one above it, so that
# the records flow one way (standard → privacy → intake → store → publish → push → …). The
# stages of one Layer do not import each other.
PIPELINE = (
    "views",
    "files",
    grimp.Layer("submission", "recheck", "report", "lookup"),
    grimp.Layer("push", "tables"),
    "credit",
    "publish",
    "store",
    "parties",
    "intake",
    "privacy",
    "standard",
)
# The rules themselves: no CKAN, so that they test fast and read like the regulation.
PURE_STAGES = ("standard", "privacy", "intake", "parties", "credit")


def _tails(layer: str | grimp.Layer) -> set[str]:
    return set(layer.module_tails) if isinstance(layer, grimp.Layer) else {layer}


def _graph(external: bool = False) -> grimp.ImportGraph:
    # Built afresh, not from grimp's cache: these tests must see the modules as they are.
    return grimp.build_graph(PACKAGE, include_external_packages=external, cache_dir=None)


def test_the_disclosure_pipeline_imports_only_earlier_stages():
    graph = _graph()
    illegal = graph.find_illegal_dependencies_for_layers(layers=PIPELINE,
                                                         containers={DISCLOSURE})
    assert sorted(f"{d.importer} -> {d.imported}" for d in illegal) == []


def test_every_module_of_the_disclosure_package_is_a_stage_of_the_pipeline():
    graph = _graph()
    modules = {name.rsplit(".", 1)[1] for name in graph.find_children(DISCLOSURE)}
    assert modules == set().union(*map(_tails, PIPELINE))


def test_the_disclosure_package_imports_none_of_its_stages_itself():
    # importing one stage loads only the stages before it
    graph = _graph()
    assert graph.find_modules_directly_imported_by(DISCLOSURE) == set()


@pytest.mark.parametrize("stage", PURE_STAGES)
def test_the_rules_of_the_pipeline_need_no_ckan(stage):
    graph = _graph(external=True)
    assert graph.find_shortest_chain(importer=f"{DISCLOSURE}.{stage}", imported="ckan") is None
