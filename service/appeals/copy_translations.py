"""A campaign's copy in other languages: what staff wrote per variant and placement.

Readers whose language has a translation of a copy see it; the rest see the copy in the
default language (`VariantSpec.in_language`). A translation is all three parts (heading,
text, button) or none: leaving all three empty removes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.appeals.editing import CampaignError, CopyInput, sanitise_copy
from service.appeals.models import AppealCopy, AppealCopyTranslation, Campaign

LIMITS = {"heading": 200, "body": 4000, "cta": 80}


@dataclass(frozen=True)
class CopyToTranslate:
    """One copy of the campaign with its translation in a language, if any."""

    variant: str
    placement: str
    source: CopyInput
    translated: CopyInput | None

    @property
    def field(self) -> str:
        return f"{self.variant}.{self.placement}"


def _row(copy: AppealCopy, language: str) -> AppealCopyTranslation | None:
    return next((t for t in copy.translations if t.language == language), None)


def copies_to_translate(campaign: Campaign, language: str) -> list[CopyToTranslate]:
    """Every copy of the campaign, in order, with its translation into `language`."""
    found = []
    for variant in sorted(campaign.variants, key=lambda v: v.key):
        for copy in sorted(variant.copies, key=lambda c: c.placement.value):
            row = _row(copy, language)
            found.append(
                CopyToTranslate(
                    variant=variant.key,
                    placement=copy.placement.value,
                    source=CopyInput(copy.heading, copy.body, copy.cta),
                    translated=CopyInput(row.heading, row.body, row.cta) if row else None,
                )
            )
    return found


def save_copy_translations(
    session: Session, campaign: Campaign, language: str, values: Mapping[str, CopyInput]
) -> None:
    """Store the translations (keyed "variant.placement"); raise CampaignError on bad ones."""
    errors: dict[str, str] = {}
    cleaned: dict[str, CopyInput | None] = {}
    for key, value in values.items():
        parts = {name: sanitise_copy(getattr(value, name)) for name in LIMITS}
        if not any(parts.values()):
            cleaned[key] = None
        elif not all(parts.values()):
            errors[key] = "write the heading, the text and the button, or leave all three empty"
        elif any(len(parts[name]) > limit for name, limit in LIMITS.items()):
            errors[key] = "at most 200 characters of heading, 4,000 of text and 80 of button"
        else:
            cleaned[key] = CopyInput(parts["heading"], parts["body"], parts["cta"])
    if errors:
        raise CampaignError(errors)
    for variant in campaign.variants:
        for copy in variant.copies:
            key = f"{variant.key}.{copy.placement.value}"
            if key not in cleaned:
                continue
            text, row = cleaned[key], _row(copy, language)
            if text is None:
                if row is not None:
                    copy.translations.remove(row)
            elif row is None:
                copy.translations.append(
                    AppealCopyTranslation(
                        language=language, heading=text.heading, body=text.body, cta=text.cta
                    )
                )
            else:
                row.heading, row.body, row.cta = text.heading, text.body, text.cta
    session.flush()
