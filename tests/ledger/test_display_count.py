"""The displayed supporter count never overstates: a property over every size of count."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from service.ledger.supporters import display_count

# Every place where the number of digits changes, and its neighbours.
BOUNDARIES = sorted({10**k + d for k in range(3, 13) for d in (-1, 0, 1)})


def shown_number(text: str) -> int:
    return int(text.removeprefix("over ").replace(",", ""))


@given(st.one_of(st.integers(min_value=0, max_value=10**13), st.sampled_from(BOUNDARIES)))
@example(5_462)
@example(1_050)
def test_display_count_never_overstates_and_keeps_two_figures(count: int) -> None:
    text = display_count(count)
    shown = shown_number(text)
    assert shown <= count, (count, text)
    if count < 1000:
        assert text == f"{count:,}"
        return
    # Floored to two significant figures: a multiple of the second digit's place value,
    # and the largest such multiple that does not exceed the count.
    place = 10 ** (len(str(count)) - 2)
    assert shown % place == 0 and count - shown < place, (count, text)
    # "over" exactly when something was floored away; the exact number otherwise.
    assert text.startswith("over ") == (shown != count), (count, text)
    assert text.removeprefix("over ") == f"{shown:,}"


def test_display_count_at_the_boundaries() -> None:
    assert [display_count(n) for n in (999, 1_000, 1_001, 9_999, 10_000, 99_999)] == [
        "999",
        "1,000",
        "over 1,000",
        "over 9,900",
        "10,000",
        "over 99,000",
    ]
    assert display_count(5_462) == "over 5,400"
