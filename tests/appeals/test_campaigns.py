"""Loading campaigns into specs, and the create/update helpers with their rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from service.appeals.campaigns import load_campaign_specs
from service.appeals.decision import Copy, VariantSpec
from service.appeals.editing import CampaignError, CopyInput, VariantInput, update_campaign
from service.appeals.models import AppealCopy, CampaignVariant
from service.core.models import utcnow
from tests.appeals.factories import BOTTOM, TOP, campaign_input, make_campaign


def test_load_campaign_specs_keeps_active_running_campaigns(session: Session) -> None:
    now = utcnow()
    make_campaign(
        session,
        slug="spring",
        priority=3,
        goal_supporters=500,
        goal_behaviour="next_goal",
        goal_step=250,
        exclude_sections=["Tragedy", " obituaries "],
        include_tags=["Council"],
        min_articles_read=2,
        thank_you_heading="Thanks",
        thank_you_body="{supporters} of you!",
    )
    make_campaign(session, slug="paused", active=False)
    make_campaign(session, slug="ended", ends_at=now - timedelta(minutes=1))
    make_campaign(session, slug="upcoming", starts_at=now + timedelta(days=1))

    specs = load_campaign_specs(session, now)

    assert [s.slug for s in specs] == ["spring", "upcoming"]
    spring = specs[0]
    assert spring.priority == 3 and spring.goal == 500 and spring.goal_step == 250
    assert spring.goal_behaviour == "next_goal"
    assert spring.exclude_sections == frozenset({"tragedy", "obituaries"})
    assert spring.include_tags == frozenset({"council"})
    assert spring.min_articles_read == 2
    assert spring.thank_you == Copy("Thanks", "{supporters} of you!", "")
    assert spring.variants == (
        VariantSpec(
            "a",
            1,
            {"top": Copy(TOP.heading, TOP.body, TOP.cta), "bottom": Copy(*vars(BOTTOM).values())},
        ),
    )


def test_create_rejects_bad_input_with_a_message_per_field(session: Session) -> None:
    with pytest.raises(CampaignError) as caught:
        make_campaign(
            session,
            slug="Bad Slug!",
            name=" ",
            goal_supporters=0,
            goal_behaviour="next_goal",
            goal_step=None,
            variants=(VariantInput("a", 0, {"side": TOP}),),
        )
    assert set(caught.value.errors) == {
        "slug",
        "name",
        "goal_supporters",
        "goal_step",
        "variants",
        "variants.a.side",
    }
    with pytest.raises(CampaignError) as caught:
        make_campaign(session, goal_supporters=None)  # BOTTOM's body says {goal}
    assert set(caught.value.errors) == {"goal_supporters"}
    make_campaign(session)
    with pytest.raises(CampaignError, match="already uses"):
        make_campaign(session)


def test_a_negative_minimum_of_articles_is_refused(session: Session) -> None:
    with pytest.raises(CampaignError) as caught:
        make_campaign(session, min_articles_read=-1)
    assert caught.value.errors == {"min_articles_read": "must be zero or more"}
    assert make_campaign(session, min_articles_read=0).min_articles_read == 0


def test_update_replaces_variants_and_copy(session: Session) -> None:
    campaign = make_campaign(
        session,
        variants=(
            VariantInput("a", 1, {"top": TOP, "bottom": BOTTOM}),
            VariantInput("b", 1, {"top": TOP}),
        ),
    )
    new_top = CopyInput("New heading", "New body", "Give now")
    update_campaign(
        session,
        campaign,
        campaign_input(
            name="Renamed",
            variants=(VariantInput("a", 3, {"top": new_top}), VariantInput("c", 1, {"top": TOP})),
        ),
    )
    session.expire_all()
    assert campaign.name == "Renamed"
    assert [(v.key, v.weight) for v in campaign.variants] == [("a", 3), ("c", 1)]
    a = campaign.variants[0]
    assert [(c.placement.value, c.heading) for c in a.copies] == [("top", "New heading")]
    # The removed variant and copy rows are gone, not orphaned.
    assert session.query(CampaignVariant).count() == 2
    assert session.query(AppealCopy).count() == 2
