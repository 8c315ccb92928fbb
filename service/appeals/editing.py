"""Staff edits to campaigns: every piece of copy reduced to plain text before saving.

Validation and storage are service.campaigns' (create_campaign / update_campaign); this
module makes sure nothing executable reaches a publisher's page through the copy.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import replace

import nh3
from sqlalchemy.orm import Session

from service.appeals.campaigns import (
    CampaignInput,
    CopyInput,
    VariantInput,
    create_campaign,
    update_campaign,
)
from service.appeals.models import Campaign

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def sanitise_copy(text: str | None) -> str:
    """Reduce staff copy to plain text: no tags, no entities that could become tags.

    nh3 strips every tag (and the contents of script/style); unescaping its output and
    repeating until nothing changes defeats payloads hidden as entities (&lt;script&gt;).
    """
    value = _CONTROL.sub("", text or "").replace("\r\n", "\n").strip()
    for _ in range(5):
        cleaned = html.unescape(nh3.clean(value, tags=set(), attributes={}))
        if cleaned == value:
            break
        value = cleaned
    else:
        # Still changing after five rounds: something adversarial; keep no markup at all.
        value = re.sub(r"[<>]", "", value)
    # What is left is text, but a stray "</" or "<x" could still join with other markup
    # if a page ever used innerHTML; a space makes it inert everywhere.
    return _TAG_START.sub("< ", value).strip()


def parse_labels(text: str | None) -> list[str]:
    """Split comma-separated sections or tags into lowercase, unique, plain labels."""
    labels: list[str] = []
    for part in (text or "").split(","):
        label = sanitise_copy(part).lower()[:80]
        if label and label not in labels:
            labels.append(label)
    return labels


def _plain_labels(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(parse_labels(",".join(values)))


def _plain_copy(copy: CopyInput) -> CopyInput:
    return CopyInput(
        heading=sanitise_copy(copy.heading)[:200],
        body=sanitise_copy(copy.body),
        cta=sanitise_copy(copy.cta)[:80],
    )


def sanitise_campaign_input(data: CampaignInput) -> CampaignInput:
    """The same campaign with every text field reduced to plain text."""
    return replace(
        data,
        name=sanitise_copy(data.name)[:200],
        thank_you_heading=sanitise_copy(data.thank_you_heading)[:200] or None,
        thank_you_body=sanitise_copy(data.thank_you_body) or None,
        include_sections=_plain_labels(data.include_sections),
        exclude_sections=_plain_labels(data.exclude_sections),
        include_tags=_plain_labels(data.include_tags),
        exclude_tags=_plain_labels(data.exclude_tags),
        variants=[
            VariantInput(
                key=variant.key,
                weight=variant.weight,
                copies={p: _plain_copy(c) for p, c in variant.copies.items()},
            )
            for variant in data.variants
        ],
    )


def save_campaign(session: Session, campaign: Campaign | None, data: CampaignInput) -> Campaign:
    """Create or update a campaign from staff input, copy sanitised; flush, never commit.

    Raises service.campaigns.CampaignError (a message per field) when it cannot be saved,
    including copy that is empty once its markup is removed.
    """
    clean = sanitise_campaign_input(data)
    if campaign is None:
        return create_campaign(session, clean)
    return update_campaign(session, campaign, clean)
