"""An import-linter contract: features reach each other only through what they export.

A module of feature X may import another feature Y only as the package `Y` itself (its
`__init__` says what Y offers), never one of Y's submodules. Importing the core, the
gateway or one's own feature is not this contract's concern. Registered in pyproject.toml
under [tool.importlinter] contract_types.
"""

from __future__ import annotations

from typing import Any

from grimp import ImportGraph
from importlinter.application import contract_utils, output
from importlinter.application.contract_utils import AlertLevel
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _feature_of(module: str, features: list[str]) -> str | None:
    """The feature package a module belongs to, or None."""
    for feature in features:
        if module == feature or module.startswith(feature + "."):
            return feature
    return None


class FeatureExportsContract(Contract):
    """Forbid importing another feature's submodules; allow its package."""

    type_name = "feature_exports"

    features = fields.ListField(subfield=fields.ModuleField())
    # Modules that wire features together (the app factory) may import anything.
    wiring_modules = fields.SetField(subfield=fields.ModuleField(), required=False)
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        """Find every direct import of another feature's submodule."""
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[attr-defined]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[attr-defined]
        )
        features = [module.name for module in self.features]  # type: ignore[attr-defined]
        wiring = {module.name for module in self.wiring_modules or ()}  # type: ignore[attr-defined]
        missing = [feature for feature in features if feature not in graph.modules]
        if missing:
            raise ValueError(f"Feature packages not found: {', '.join(missing)}")

        violations: list[dict[str, Any]] = []
        for importer in sorted(graph.modules):
            if importer in wiring:
                continue
            own = _feature_of(importer, features)
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                other = _feature_of(imported, features)
                if other is None or other == own or imported == other:
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                violations.append(
                    {
                        "importer": importer,
                        "imported": imported,
                        "feature": other,
                        "line_numbers": sorted(d["line_number"] for d in details),
                    }
                )
        return ContractCheck(
            kept=not violations,
            metadata={"violations": violations},
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        """List each import of a submodule with the package to import instead."""
        for violation in check.metadata["violations"]:
            lines = ", ".join(f"l.{n}" for n in violation["line_numbers"])
            output.print_error(
                f"{violation['importer']} -> {violation['imported']} ({lines}): "
                f"import it from {violation['feature']} (export it there if needed)",
                bold=False,
            )
        output.new_line()
