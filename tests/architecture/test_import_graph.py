"""The import graph of service/: no cycles, and the feature-exports contract bites."""

from __future__ import annotations

import grimp
import pytest

from tests.architecture.feature_exports import FeatureExportsContract

FEATURES = ["app.ledger", "app.appeals"]


def _cycles(graph: grimp.ImportGraph, prefix: str) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), plus self-imports."""
    modules = sorted(m for m in graph.modules if m == prefix or m.startswith(prefix + "."))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in modules:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or module in graph.find_modules_directly_imported_by(module):
                found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_service_has_no_import_cycles() -> None:
    # grimp reads every import statement, those inside functions included.
    graph = grimp.build_graph("service", cache_dir=None)
    assert len(graph.modules) > 40
    assert _cycles(graph, "service") == []


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import() -> None:
    graph = grimp.ImportGraph()
    for module in ("app", "app.a", "app.b", "app.c"):
        graph.add_module(module)
    graph.add_import(importer="app.a", imported="app.b", line_number=1, line_contents="")
    graph.add_import(importer="app.b", imported="app.c", line_number=1, line_contents="")
    graph.add_import(importer="app.c", imported="app.a", line_number=9, line_contents="")
    assert _cycles(graph, "app") == [["app.a", "app.b", "app.c"]]


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for module in (
        "app",
        "app.core",
        "app.ledger",
        "app.ledger.models",
        "app.appeals",
        "app.appeals.api",
    ):
        graph.add_module(module)
    for importer, imported in imports:
        graph.add_import(
            importer=importer, imported=imported, line_number=3, line_contents="import x"
        )
    return graph


def _contract() -> FeatureExportsContract:
    return FeatureExportsContract(
        name="exports",
        session_options={"root_packages": ["app"]},
        contract_options={"features": FEATURES, "wiring_modules": ["app"]},
    )


@pytest.mark.parametrize(
    "imports",
    [
        [("app.appeals.api", "app.ledger")],  # another feature's package
        [("app.appeals.api", "app.core")],  # the core
        [("app.ledger", "app.ledger.models")],  # its own submodule
        [("app", "app.appeals.api")],  # the app factory wires things
    ],
)
def test_the_contract_keeps_imports_of_packages_own_modules_and_wiring(
    imports: list[tuple[str, str]],
) -> None:
    assert _contract().check(_graph(*imports), verbose=False).kept


def test_the_contract_breaks_on_another_features_submodule() -> None:
    check = _contract().check(_graph(("app.appeals.api", "app.ledger.models")), verbose=False)
    assert not check.kept
    assert check.metadata["violations"] == [
        {
            "importer": "app.appeals.api",
            "imported": "app.ledger.models",
            "feature": "app.ledger",
            "line_numbers": [3],
        }
    ]
