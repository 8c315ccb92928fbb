"""Database.after_commit: a callback for the context's next commit, and only that one."""

from __future__ import annotations

from flask import Flask

from service.core.extensions import db


def test_a_callback_runs_once_after_the_next_commit(app: Flask) -> None:
    calls: list[str] = []
    with app.app_context():
        assert db.after_commit(lambda: calls.append("no session")) is False
        db.session.flush()
        assert db.after_commit(lambda: calls.append("committed")) is True
        assert calls == []
        db.session.rollback()
        assert calls == []
        db.session.commit()
        db.session.commit()
        assert calls == ["committed"]
