"""One specification, two implementations: the decision table against Python and the widget.

tests/appeals/decision_cases.json lists cases with their expected answers. Each runs
through service/appeals/decision.py, and through static/widget.js in Chromium on the site
document built from the same campaigns; both must match the expectation and each other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from service.appeals.decision import (
    ArticleContext,
    CampaignSpec,
    Copy,
    ReaderState,
    VariantSpec,
    decide_appeal,
)
from service.appeals.site import READER_BUCKETS, site_document
from service.core.settings import PROJECT_ROOT
from service.ledger.supporters import display_count

TABLE = json.loads(Path(__file__).with_name("decision_cases.json").read_text())
CASES: list[dict[str, Any]] = TABLE["cases"]
FIELDS = ("show", "reason", "placement", "campaign", "variant", "heading", "body", "cta", "goal")


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _ms(value: str | None) -> int | None:
    moment = _time(value)
    return None if moment is None else int(moment.timestamp() * 1000)


def campaign_set(name: str) -> tuple[CampaignSpec, ...]:
    """The table's campaigns as decision specs."""
    specs = []
    for c in TABLE["campaign_sets"][name]:
        thank_you = c.get("thank_you")
        specs.append(
            CampaignSpec(
                slug=c["slug"],
                priority=c.get("priority", 0),
                starts_at=_time(c.get("starts_at")),
                ends_at=_time(c.get("ends_at")),
                goal=c.get("goal"),
                goal_behaviour=c.get("goal_behaviour", "thank_you"),
                goal_step=c.get("goal_step"),
                thank_you=Copy(thank_you["heading"], thank_you["body"], "") if thank_you else None,
                include_sections=frozenset(c.get("include_sections", ())),
                exclude_sections=frozenset(c.get("exclude_sections", ())),
                include_tags=frozenset(c.get("include_tags", ())),
                exclude_tags=frozenset(c.get("exclude_tags", ())),
                min_articles_read=c.get("min_articles_read", 0),
                formats=frozenset(c.get("formats", ("inline",))),
                max_views=c.get("max_views"),
                views_days=c.get("views_days", 30),
                max_dismissals=c.get("max_dismissals"),
                devices=frozenset(c.get("devices", ())),
                referrers=frozenset(c.get("referrers", ())),
                countries=frozenset(c.get("countries", ())),
                donor_states=frozenset(c.get("donor_states", ())),
                variants=tuple(
                    VariantSpec(
                        v["key"], v["weight"], {p: Copy(**copy) for p, copy in v["copies"].items()}
                    )
                    for v in c["variants"]
                ),
            )
        )
    return tuple(specs)


def resolved(case: dict[str, Any]) -> dict[str, Any]:
    """The case with the table's defaults filled in."""
    defaults = TABLE["defaults"]
    return {
        "campaigns": campaign_set(case["campaigns"]),
        "supporters": case.get("supporters", defaults["supporters"]),
        "now": case.get("now", defaults["now"]),
        "placement": case.get("placement", defaults["placement"]),
        "article": case.get("article", defaults["article"]),
        "reader": {**defaults["reader"], **case.get("reader", {})},
    }


def python_answer(case: dict[str, Any]) -> dict[str, Any]:
    c = resolved(case)
    reader = c["reader"]
    decision = decide_appeal(
        c["campaigns"],
        c["supporters"],
        ArticleContext.of("", c["article"]["section"], c["article"]["tags"]),
        ReaderState(
            reader_id=str(reader["bucket"]),
            supporter=reader["supporter"],
            dismissed_until=_time(reader["dismissed_until"]),
            articles_read=reader["articles_read"],
            device=reader["device"],
            referrer=reader["referrer"],
            country=reader["country"],
            donor_state=reader["donor_state"],
            views={
                slug: tuple(t for t in map(_time, times) if t is not None)
                for slug, times in reader["views"].items()
            },
            dismissals=reader["dismissals"],
        ),
        _time(c["now"]) or datetime.min,
        placement=c["placement"],
        display=display_count,
    )
    copy = decision.copy
    return {
        "show": decision.show,
        "reason": decision.reason,
        "placement": decision.placement,
        "campaign": decision.campaign,
        "variant": decision.variant,
        "heading": copy.heading if copy else None,
        "body": copy.body if copy else None,
        "cta": copy.cta if copy else None,
        "goal": decision.goal if decision.show else None,
    }


def widget_answer(page: Any, case: dict[str, Any]) -> dict[str, Any]:
    c = resolved(case)
    document = site_document(
        c["campaigns"], c["supporters"], currency="eur", dismiss_days=7, display=display_count
    )
    reader = c["reader"]
    answer: dict[str, Any] = page.evaluate(
        "([doc, article, reader, now, p]) =>"
        " window.__supportWidget.decide(doc, article, reader, now, p)",
        [
            json.loads(json.dumps(document)),
            c["article"],
            {
                "bucket": str(reader["bucket"]),
                "supporter": reader["supporter"],
                "dismissedUntil": _ms(reader["dismissed_until"]) or 0,
                "articlesRead": reader["articles_read"],
                "device": reader["device"],
                "referrer": reader["referrer"],
                "country": reader["country"],
                "donorState": reader["donor_state"],
                "views": {slug: [_ms(t) for t in times] for slug, times in reader["views"].items()},
                "dismissals": reader["dismissals"],
            },
            _ms(c["now"]),
            c["placement"],
        ],
    )
    return {name: answer[name] for name in FIELDS}


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [case["name"] for case in cases]


def test_the_table_names_each_case_once_and_expects_something() -> None:
    assert len(set(_ids(CASES))) == len(CASES) >= 50
    assert all(case["expect"] and set(case["expect"]) <= set(FIELDS) for case in CASES)
    reasons = {case["expect"].get("reason") for case in CASES}
    assert reasons >= {
        "shown",
        "goal_thank_you",
        "supporter",
        "dismissed",
        "no_campaign",
        "outside_dates",
        "excluded",
        "not_targeted",
        "below_article_threshold",
        "goal_reached",
        "no_variant",
        "no_copy",
        "format_not_chosen",
        "frequency_capped",
    }


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_the_python_decision_follows_the_table(case: dict[str, Any]) -> None:
    answer = python_answer(case)
    assert {name: answer[name] for name in case["expect"]} == case["expect"]


@pytest.fixture(scope="module")
def decider(browser: Any) -> Iterator[Any]:
    """A blank page with the widget loaded: it renders nothing, but exposes its decision."""
    page = browser.new_page()
    page.set_content(
        "<!doctype html><html><head><title>decision</title></head><body></body></html>"
    )
    page.add_script_tag(content=(PROJECT_ROOT / "static" / "widget.js").read_text())
    yield page
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_the_widget_decides_as_the_table_and_python_do(case: dict[str, Any], decider: Any) -> None:
    answer = widget_answer(decider, case)
    assert {name: answer[name] for name in case["expect"]} == case["expect"]
    assert answer == python_answer(case)


@pytest.mark.browser
def test_every_reader_bucket_gets_the_same_variant_in_both(decider: Any) -> None:
    case = {"name": "buckets", "campaigns": "winter", "expect": {}}
    chosen = []
    for bucket in range(READER_BUCKETS):
        bucket_case = {**case, "reader": {"bucket": bucket}}
        answer = widget_answer(decider, bucket_case)
        assert answer == python_answer(bucket_case)
        chosen.append(answer["variant"])
    # An even split of two variants over 100 buckets is roughly half and half.
    assert 35 <= chosen.count("a") <= 65
