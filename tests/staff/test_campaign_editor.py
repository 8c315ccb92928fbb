"""Copy sanitising: nothing executable survives, plain text does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from service.appeals.editing import parse_labels, sanitise_copy, save_campaign


def test_tags_and_scripts_are_removed_and_text_is_kept() -> None:
    assert sanitise_copy("<b>Help</b> us <script>alert(1)</script>now") == "Help us now"
    assert sanitise_copy('<img src=x onerror="alert(1)">Hi') == "Hi"
    assert sanitise_copy("Tom & Jerry say 5 < 6") == "Tom & Jerry say 5 < 6"
    assert sanitise_copy("Join {supporters} readers") == "Join {supporters} readers"
    assert sanitise_copy("  line one\r\nline two \x00") == "line one\nline two"


def test_tags_hidden_as_entities_do_not_come_back() -> None:
    assert "<" not in sanitise_copy("&lt;script&gt;alert(1)&lt;/script&gt;x")
    assert "<" not in sanitise_copy("&amp;lt;img src=x onerror=alert(1)&amp;gt;")
    assert sanitise_copy("&lt;/") == "< /"


@given(st.text(alphabet=st.sampled_from(list("<>/&;ltgamp =\"'scriptimgonerror!x"))))
def test_sanitised_copy_never_contains_a_tag(text: str) -> None:
    import re

    assert not re.search(r"<[a-zA-Z/!?]", sanitise_copy(text))


def test_labels_are_lowercase_unique_and_plain() -> None:
    assert parse_labels("Politics, housing ,POLITICS,,<b>x</b>") == ["politics", "housing", "x"]


def test_copy_that_is_only_markup_is_refused(session: Session) -> None:
    from service.appeals.editing import CampaignError, CampaignInput, CopyInput, VariantInput

    data = CampaignInput(
        slug="sneaky",
        name="Sneaky",
        variants=[
            VariantInput(
                key="a", copies={"top": CopyInput("<script>alert(1)</script>", "Body", "Go")}
            )
        ],
    )
    with pytest.raises(CampaignError) as error:
        save_campaign(session, None, data)
    assert "variants.a.top" in error.value.errors


def test_saved_copy_is_plain_text(session: Session) -> None:
    from service.appeals.editing import CampaignInput, CopyInput, VariantInput

    data = CampaignInput(
        slug="plain",
        name="<i>Plain</i>",
        thank_you_heading="<b>Thanks</b>",
        include_tags=["<b>Politics</b>", "politics"],
        variants=[
            VariantInput(
                key="a",
                copies={"bottom": CopyInput("Hi <svg onload=alert(1)>", "Body & more", "Go")},
            )
        ],
    )
    campaign = save_campaign(session, None, data)
    copy = campaign.variants[0].copies[0]
    assert (copy.heading, copy.body, copy.cta) == ("Hi", "Body & more", "Go")
    assert (campaign.name, campaign.thank_you_heading) == ("Plain", "Thanks")
    assert campaign.include_tags == ["politics"]
