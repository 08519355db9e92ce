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
