"""The /support page's heading and introduction: staff's version, else the defaults.

Staff type plain text; it is reduced to plain text like campaign copy before it is saved,
and a blank line starts a new paragraph.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.appeals import sanitise_copy
from service.core.i18n import lazy_gettext
from service.readers.models import SiteText

HEADING_KEY = "support_heading"
INTRO_KEY = "support_intro"
HEADING_MAX = 200
INTRO_MAX = 4000
# Ours, until staff write their own: in the reader's language.
DEFAULT_HEADING = lazy_gettext("We can't do this without you")
DEFAULT_INTRO = lazy_gettext(
    "Good local reporting takes time: council meetings sat through, records requested, "
    "sources called back. Advertising pays for part of it, and this year it paid for less."
    "\n\n"
    "If our journalism has been useful to you, please give what you can, once, every month "
    "or every year, so it stays free for everyone who needs it."
)


class SiteTextError(ValueError):
    """Texts staff cannot save, with a message per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class SupportTexts:
    """What the /support page says above its form."""

    heading: str
    intro: str
    customised: bool = False

    @property
    def paragraphs(self) -> list[str]:
        """The introduction split at blank lines."""
        return [part.strip() for part in self.intro.split("\n\n") if part.strip()]


def support_texts(session: Session, language: str = "") -> SupportTexts:
    """The /support texts in a language, falling back to the default language, then ours."""
    rows = session.execute(
        select(SiteText.key, SiteText.language, SiteText.text).where(
            SiteText.key.in_([HEADING_KEY, INTRO_KEY]),
            SiteText.language.in_({language, ""}),
        )
    ).all()
    found: dict[str, str] = {}
    # The default language first, so the reader's language overrides it where it exists.
    for key, _language, text in sorted(rows, key=lambda row: row[1] != ""):
        if text:
            found[key] = text
    return SupportTexts(
        heading=found.get(HEADING_KEY) or str(DEFAULT_HEADING),
        intro=found.get(INTRO_KEY) or str(DEFAULT_INTRO),
        customised=bool(found),
    )


def stored_support_texts(session: Session, language: str) -> tuple[str, str] | None:
    """The heading and text staff saved for exactly this language ("": default), if any."""
    rows = dict(
        session.execute(
            select(SiteText.key, SiteText.text).where(
                SiteText.key.in_([HEADING_KEY, INTRO_KEY]), SiteText.language == language
            )
        ).all()
    )
    if not rows:
        return None
    return rows.get(HEADING_KEY, ""), rows.get(INTRO_KEY, "")


def save_support_texts(session: Session, heading: str, intro: str, language: str = "") -> None:
    """Sanitise and store the /support texts (flushed, not committed)."""
    values = {HEADING_KEY: sanitise_copy(heading), INTRO_KEY: sanitise_copy(intro)}
    errors = {}
    if not values[HEADING_KEY] or len(values[HEADING_KEY]) > HEADING_MAX:
        errors["heading"] = f"Write a heading of 1 to {HEADING_MAX} characters of plain text."
    if not values[INTRO_KEY] or len(values[INTRO_KEY]) > INTRO_MAX:
        errors["intro"] = f"Write a text of 1 to {INTRO_MAX} characters of plain text."
    if errors:
        raise SiteTextError(errors)
    existing = {
        row.key: row
        for row in session.scalars(
            select(SiteText).where(SiteText.key.in_(list(values)), SiteText.language == language)
        )
    }
    for key, text in values.items():
        row = existing.get(key)
        if row is None:
            session.add(SiteText(key=key, language=language, text=text))
        else:
            row.text = text
    session.flush()
