"""The import-linter contracts in pyproject.toml hold (also run by `make imports`)."""

from __future__ import annotations

import os
from pathlib import Path

import importlinter.api  # noqa: F401  (configures import-linter before its use cases run)
import pytest
from importlinter.application.use_cases import lint_imports

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    kept = lint_imports(
        config_filename=os.fspath(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True
    )
    report = capsys.readouterr().out
    assert kept, report
    assert "0 broken" in report


def test_every_feature_package_is_layered_and_keeps_to_its_exports() -> None:
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    exports = next(c for c in contracts if c["type"] == "feature_exports")["features"]
    packages = {
        f"service.{path.name}"
        for path in (ROOT / "service").iterdir()
        if (path / "__init__.py").exists()
    }
    assert packages == set(layers)
    assert packages - {"service.core", "service.stripe_gateway"} == set(exports)
    # Outbound events sit on top: they follow the ledger and serve staff pages.
    assert layers.index("service.outbound") < layers.index("service.staff")
