"""Staff account changes: the domain owns the rules (not your own account, keep an admin)."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from service.staff.accounts import (
    LAST_ADMIN_MESSAGE,
    OWN_ACCOUNT_MESSAGE,
    StaffConflict,
    StaffUserNotFound,
    change_staff_role,
    list_staff_users,
    remove_staff_user,
    unlock_staff_user,
)
from service.staff.models import StaffRole, StaffUser
from tests.conftest import truncate_all
from tests.staff import factories
from tests.staff.helpers import arranged, sign_in, token_from


def _admins(session: Session) -> list[str]:
    stmt = select(StaffUser.email).where(StaffUser.role == StaffRole.ADMIN)
    return sorted(session.scalars(stmt))


def test_an_admin_demotes_and_removes_another_admin(session: Session) -> None:
    me = factories.staff_user(session, StaffRole.ADMIN, "me@paper.example")
    other = factories.staff_user(session, StaffRole.ADMIN, "other@paper.example")
    third = factories.staff_user(session, StaffRole.ADMIN, "third@paper.example")

    assert change_staff_role(session, me.id, other.id, StaffRole.VIEWER).role is StaffRole.VIEWER
    remove_staff_user(session, me.id, third.id)

    assert _admins(session) == ["me@paper.example"]
    assert [u.email for u in list_staff_users(session)] == [
        "me@paper.example",
        "other@paper.example",
    ]


def test_nobody_changes_their_own_account(session: Session) -> None:
    me = factories.staff_user(session, StaffRole.ADMIN)
    factories.staff_user(session, StaffRole.ADMIN)
    for change in (
        lambda: change_staff_role(session, me.id, me.id, StaffRole.VIEWER),
        lambda: remove_staff_user(session, me.id, me.id),
        lambda: unlock_staff_user(session, me.id, me.id),
    ):
        with pytest.raises(StaffConflict, match=OWN_ACCOUNT_MESSAGE):
            change()
    assert session.get(StaffUser, me.id) is not None


def test_changing_an_account_that_is_gone_is_not_found(session: Session) -> None:
    me = factories.staff_user(session, StaffRole.ADMIN)
    with pytest.raises(StaffUserNotFound):
        remove_staff_user(session, me.id, me.id + 1000)


def test_the_last_admin_is_kept_when_two_admins_act_on_each_other(session: Session) -> None:
    # Two admins, each on their own page, demote each other at the same moment. The first
    # change lands; the second request was let in while its admin still was one, but by
    # the time it runs the only admin left is the one it is about to demote or remove.
    first = factories.staff_user(session, StaffRole.ADMIN, "first@paper.example")
    second = factories.staff_user(session, StaffRole.ADMIN, "second@paper.example")
    change_staff_role(session, first.id, second.id, StaffRole.VIEWER)

    with pytest.raises(StaffConflict, match=LAST_ADMIN_MESSAGE):
        change_staff_role(session, second.id, first.id, StaffRole.VIEWER)
    with pytest.raises(StaffConflict, match=LAST_ADMIN_MESSAGE):
        remove_staff_user(session, second.id, first.id)
    assert _admins(session) == ["first@paper.example"]
    # Anything that keeps the admin is still allowed.
    assert change_staff_role(session, second.id, first.id, StaffRole.ADMIN).role is StaffRole.ADMIN
    unlock_staff_user(session, second.id, first.id)


def test_a_viewer_can_be_removed_while_only_one_admin_is_left(session: Session) -> None:
    admin = factories.staff_user(session, StaffRole.ADMIN)
    viewer = factories.staff_user(session, StaffRole.VIEWER)
    remove_staff_user(session, admin.id, viewer.id)
    assert session.get(StaffUser, viewer.id) is None


def test_the_pages_answer_the_domains_refusals(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        me = factories.staff_user(session, StaffRole.ADMIN)
        gone = factories.staff_user(session, StaffRole.VIEWER)
        gone_id = gone.id
        session.delete(gone)
    sign_in(client, me.email)
    token = token_from(client, "/staff/users")

    own = client.post(f"/staff/users/{me.id}/role", data={"csrf_token": token, "role": "viewer"})
    assert own.status_code == 409
    assert OWN_ACCOUNT_MESSAGE in own.get_data(as_text=True)
    missing = client.post(f"/staff/users/{gone_id}/remove", data={"csrf_token": token})
    assert missing.status_code == 404
    with arranged(app) as session:
        assert _admins(session) == [me.email]


def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    engine: Engine, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("SQLite lets one writer in at a time; the race needs row locks")
    try:
        with Session(engine) as arrange:
            first = factories.staff_user(arrange, StaffRole.ADMIN, "first@paper.example")
            second = factories.staff_user(arrange, StaffRole.ADMIN, "second@paper.example")
            first_id, second_id = first.id, second.id
            arrange.commit()
        outcome: list[object] = []
        with Session(engine) as one, Session(engine) as two:
            # The first change holds the admin rows' locks until it commits.
            change_staff_role(one, first_id, second_id, StaffRole.VIEWER)

            def the_other_way() -> None:
                try:
                    change_staff_role(two, second_id, first_id, StaffRole.VIEWER)
                    two.commit()
                    outcome.append("demoted")
                except StaffConflict as exc:
                    two.rollback()
                    outcome.append(exc)

            racer = threading.Thread(target=the_other_way)
            racer.start()
            racer.join(timeout=1.0)
            assert racer.is_alive(), "the second change must wait for the first's locks"
            one.commit()
            racer.join(timeout=10.0)
        assert len(outcome) == 1 and isinstance(outcome[0], StaffConflict)
        with Session(engine) as check:
            assert _admins(check) == ["first@paper.example"]
    finally:
        truncate_all(engine)
