"""Social proof that never embarrasses: no number below the minimum, plurals, the meter."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.appeals.demo import seed_demo
from service.appeals.social_proof import fill, meter_visible, plural_form, shown_count
from service.ledger import display_count


@pytest.mark.parametrize(
    ("text", "shown", "count", "expected"),
    [
        ("{supporters} readers already chip in. Will you join them?", "", 0, "Will you join them?"),
        ("Please give. Already {supporters} readers have.", "", 3, "Please give."),
        ("Join {supporters|reader|readers} today.", "1", 1, "Join 1 reader today."),
        ("Join {supporters|reader|readers} today.", "2", 2, "Join 2 readers today."),
        ("{supporters|reader|readers} give.", "over 5,400", 5432, "Over 5,400 readers give."),
        ("Thank you: {supporters} and counting", "", 0, "Thank you: and counting"),
    ],
)
def test_copy_drops_the_count_below_the_minimum_and_says_plurals_right(
    text: str, shown: str, count: int, expected: str
) -> None:
    assert fill(text, shown, "1,000", count=count) == expected


def test_plural_forms_follow_the_languages_rules() -> None:
    assert plural_form(1, ["reader", "readers"]) == "reader"
    assert plural_form(0, ["reader", "readers"]) == "readers"
    # French says "0 lecteur" (zero is singular); Polish has one, few, many, other.
    assert plural_form(0, ["lecteur", "lecteurs"], "fr") == "lecteur"
    forms = ["czytelnik", "czytelników (few)", "czytelników (many)", "czytelnika"]
    assert plural_form(3, forms, "pl") == "czytelników (few)"
    assert plural_form(5, forms, "pl") == "czytelników (many)"


def test_no_number_below_the_minimum_and_the_meter_from_a_share_of_the_goal() -> None:
    shown = shown_count(display_count, 10)
    assert [shown(n) for n in (0, 1, 9, 10, 5432)] == ["", "", "", "10", "over 5,400"]
    assert not meter_visible(0, 1000, 10) and not meter_visible(99, 1000, 10)
    assert meter_visible(100, 1000, 10) and not meter_visible(5, None, 0)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"supporter_count_offset": 0}


def test_on_launch_day_the_demo_says_no_zero(client: FlaskClient, session: Session) -> None:
    seed_demo(session)
    session.commit()
    document = client.get("/api/v1/appeals/site").get_json()
    assert document["supporters"] == {"count": 0, "display": ""}
    (demo,) = document["campaigns"]
    assert demo["goal_meter"] is False
    texts = [
        part
        for variant in demo["variants"]
        for copy in variant["copy"].values()
        for part in copy.values()
    ]
    assert texts and not any("0 readers" in t or "{supporters" in t for t in texts)
    banner = demo["variants"][0]["copy"]["banner"]
    assert banner["body"] == "Will you join them?"
