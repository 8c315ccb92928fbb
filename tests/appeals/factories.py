"""Campaigns for tests, written through the same helpers staff and the demo use."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.appeals.editing import CampaignInput, CopyInput, VariantInput, create_campaign
from service.appeals.models import Campaign

TOP = CopyInput("We need your help now", "Already {supporters} readers give.", "Contribute")
BOTTOM = CopyInput("Readers like you", "{supporters} readers support us. Goal: {goal}.", "Join")


def campaign_input(**fields: Any) -> CampaignInput:
    values: dict[str, Any] = {
        "slug": "winter",
        "name": "Winter appeal",
        "goal_supporters": 1000,
        "goal_behaviour": "next_goal",
        "goal_step": 1000,
        "variants": (VariantInput("a", 1, {"top": TOP, "bottom": BOTTOM}),),
    }
    values.update(fields)
    return CampaignInput(**values)


def make_campaign(session: Session, **fields: Any) -> Campaign:
    return create_campaign(session, campaign_input(**fields))
