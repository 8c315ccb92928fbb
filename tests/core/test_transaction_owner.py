"""The request owns the transaction: only core's db module ends transactions."""

from __future__ import annotations

import ast
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from service.core.extensions import db
from service.core.settings import PROJECT_ROOT
from service.ledger.models import Supporter

SERVICE = PROJECT_ROOT / "service"
OWNER = SERVICE / "core" / "db.py"
OWNERS = {OWNER}


def _transaction_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    return [
        f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"commit", "rollback"}
    ]


def test_no_module_but_core_db_commits_or_rolls_back() -> None:
    modules = sorted(SERVICE.rglob("*.py"))
    assert set(modules) >= OWNERS

    offenders = [
        call for path in modules if path not in OWNERS for call in _transaction_calls(path)
    ]

    assert offenders == []


def test_the_scan_sees_the_calls_core_db_makes() -> None:
    assert any("commit" in call for call in _transaction_calls(OWNER))
    assert any("rollback" in call for call in _transaction_calls(OWNER))


def _supporters(email: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Supporter).where(Supporter.email == email)
    )


def test_a_unit_of_work_commits_when_its_block_ends(app: Flask) -> None:
    with app.app_context(), db.unit_of_work() as session:
        session.add(Supporter(email="kept@example.com"))

    with app.app_context():  # a fresh session sees only what was committed
        assert _supporters("kept@example.com") == 1


def test_a_unit_of_work_rolls_back_when_its_block_raises(app: Flask) -> None:
    with app.app_context():
        try:
            with db.unit_of_work() as session:
                session.add(Supporter(email="lost@example.com"))
                session.flush()
                raise RuntimeError("the work failed")
        except RuntimeError:
            pass
        assert _supporters("lost@example.com") == 0
