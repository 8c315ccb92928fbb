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
