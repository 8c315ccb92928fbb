"""The demo: a seeded campaign and sample articles that embed the widget like a publisher."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.appeals.copy_translations import save_copy_translations
from service.appeals.editing import CampaignInput, CopyInput, VariantInput, create_campaign
from service.appeals.models import Campaign
from service.core.urls import public_url

DEMO_CAMPAIGN_SLUG = "harbour-courier-winter-appeal"

bp = Blueprint("demo", __name__, url_prefix="/demo")


def demo_campaign_input() -> CampaignInput:
    """The demo campaign: copy for every format in two variants, a goal, no tragedy pages.

    It runs in every format; the demo article's ?format= picks which one the page takes.
    """
    banner = CopyInput(
        heading="Keep Port Carrig's news free for everyone",
        body="{supporters} readers already chip in. Will you join them?",
        cta="Support us",
    )
    header = CopyInput(
        heading="Support The Harbour Courier",
        body="Independent local reporting, free to read, paid for by readers like you.",
        cta="Support us",
    )
    bottom = CopyInput(
        heading="Readers like you keep these stories free for everyone",
        body=(
            "Advertising and contributions from readers together keep the paywall off "
            "reporting like this. Already {supporters} readers like you have stepped up "
            "with a monthly gift or a once-off donation. Help us reach {goal}."
        ),
        cta="Join them",
    )
    return CampaignInput(
        slug=DEMO_CAMPAIGN_SLUG,
        name="Winter appeal (demo)",
        priority=10,
        goal_supporters=1000,
        goal_behaviour="thank_you",
        thank_you_heading="We reached {goal} supporters. Thank you!",
        thank_you_body=(
            "With {supporters} readers behind it, The Harbour Courier stays free for "
            "everyone. Every new contribution pays for more reporting from the harbour."
        ),
        exclude_sections=("tragedy",),
        formats=("inline", "banner", "header"),
        variants=(
            VariantInput(
                key="a",
                weight=1,
                copies={
                    "top": CopyInput(
                        heading="Local news needs your help now",
                        body=(
                            "You read The Harbour Courier because it tells you what is "
                            "really happening where you live. Advertising pays for part of "
                            "that work, and this year it has not been enough. If our "
                            "reporting matters to you, please give what you can."
                        ),
                        cta="Contribute",
                    ),
                    "bottom": bottom,
                    "banner": banner,
                    "header": header,
                },
            ),
            VariantInput(
                key="b",
                weight=1,
                copies={
                    "top": CopyInput(
                        # Same heading as "a": this test is about the body and the button.
                        heading="Local news needs your help now",
                        body=(
                            "Someone has to sit through the council meetings, read the "
                            "planning files and ask the awkward questions. Readers make "
                            "that possible. Can you chip in today, once or every month?"
                        ),
                        cta="Chip in",
                    ),
                    "bottom": bottom,
                    "banner": banner,
                    "header": header,
                },
            ),
        ),
    )


# The demo campaign's German copy (both variants share all but the top box's).
GERMAN = {
    "top": CopyInput(
        "Lokaljournalismus braucht jetzt Ihre Hilfe",
        "Sie lesen den Harbour Courier, weil er Ihnen sagt, was dort, wo Sie leben, wirklich "
        "passiert. Werbung bezahlt nur einen Teil dieser Arbeit, und in diesem Jahr hat es "
        "nicht gereicht. Wenn Ihnen unsere Berichterstattung wichtig ist, geben Sie bitte, "
        "was Sie können.",
        "Beitragen",
    ),
    "b.top": CopyInput(
        "Lokaljournalismus braucht jetzt Ihre Hilfe",
        "Jemand muss die Ratssitzungen aussitzen, die Bauakten lesen und die unbequemen "
        "Fragen stellen. Unsere Leserinnen und Leser machen das möglich. Helfen Sie heute "
        "mit, einmalig oder jeden Monat?",
        "Jetzt helfen",
    ),
    "bottom": CopyInput(
        "Leserinnen und Leser wie Sie halten diese Berichte für alle frei zugänglich",
        "Werbung und Beiträge unserer Leserschaft halten Berichte wie diesen frei von einer "
        "Bezahlschranke. Schon {supporters} Leserinnen und Leser wie Sie unterstützen uns "
        "monatlich oder mit einer einmaligen Spende. Helfen Sie uns, {goal} zu erreichen.",
        "Mitmachen",
    ),
    "banner": CopyInput(
        "Halten Sie die Nachrichten aus Port Carrig für alle frei",
        "{supporters} Leserinnen und Leser tragen schon bei. Sind Sie dabei?",
        "Unterstützen",
    ),
    "header": CopyInput(
        "Unterstützen Sie den Harbour Courier",
        "Unabhängiger Lokaljournalismus, frei zu lesen, bezahlt von Leserinnen und Lesern "
        "wie Ihnen.",
        "Unterstützen",
    ),
}


def seed_demo(session: Session) -> None:
    """Create the demo campaign, with its German copy, unless it exists; flush only."""
    exists = session.scalar(select(Campaign.id).where(Campaign.slug == DEMO_CAMPAIGN_SLUG))
    if exists is None:
        campaign = create_campaign(session, demo_campaign_input())
        save_copy_translations(
            session,
            campaign,
            "de",
            {
                f"{variant}.{placement}": GERMAN.get(f"{variant}.{placement}") or GERMAN[placement]
                for variant in ("a", "b")
                for placement in ("top", "bottom", "banner", "header")
            },
        )


ARTICLES = {
    "news": {
        "id": "port-carrig-flood-defences",
        "section": "news",
        "tags": "council,flooding,port-carrig",
    },
    "tragedy": {
        "id": "lifeboat-volunteer-tributes",
        "section": "tragedy",
        "tags": "lifeboat,port-carrig",
    },
}


@bp.get("/article")
def article() -> ResponseReturnValue:
    """A sample article embedding the widget with one script tag.

    ?section=tragedy shows an excluded section; ?placeholders=none leaves out the
    publisher's placeholder for the top box; ?format=banner or ?format=header shows the
    demo campaign's sticky banner or header button instead of the inline boxes;
    ?lang=de shows a German-language publisher's page: the widget speaks German.
    """
    story = ARTICLES["tragedy" if request.args.get("section") == "tragedy" else "news"]
    wanted = request.args.get("format", "")
    return render_template(
        "demo_article.html",
        story=story,
        format=wanted if wanted in ("banner", "header") else "inline",
        # What a publisher's page may say about the reader (see the README).
        country=request.args.get("country", "")[:2],
        donor_state=request.args.get("donor_state", "")[:10],
        placeholders=request.args.get("placeholders") != "none",
        # ?lang=de: the page of a German-language publisher (its <html lang> says so).
        page_lang="de" if request.args.get("lang") == "de" else "en-IE",
        widget_url=public_url("widget.widget_js"),
    )
