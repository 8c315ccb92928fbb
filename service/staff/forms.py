"""Staff HTML forms (Flask-WTF): each FlaskForm carries its own CSRF token."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[import-untyped]
    BooleanField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[import-untyped]
from wtforms.validators import (  # type: ignore[import-untyped]
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from service.appeals import (
    SLUG_HINT,
    SLUG_PATTERN,
    VARIANT_KEY_HINT,
    VARIANT_KEY_PATTERN,
    GoalBehaviour,
)
from service.readers import HEADING_MAX, INTRO_MAX
from service.staff.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from service.staff.asks_form import AsksForm
from service.staff.checkboxes import CheckboxesField
from service.staff.models import StaffRole

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
GOAL_BEHAVIOUR_CHOICES = [
    SelectChoice(GoalBehaviour.THANK_YOU.value, "Say thank you (show the thank-you copy)"),
    SelectChoice(GoalBehaviour.HIDE.value, "Hide the campaign"),
    SelectChoice(GoalBehaviour.NEXT_GOAL.value, "Move to the next goal (goal + step)"),
]
FORMAT_CHOICES = [
    SelectChoice("inline", "Boxes above and below the story"),
    SelectChoice("banner", "A banner at the bottom of the screen (stays until closed)"),
    SelectChoice("header", "A “Support us” button in the page header"),
]
DEVICE_CHOICES = [SelectChoice("phone", "Phones"), SelectChoice("desktop", "Desktops and tablets")]
REFERRER_CHOICES = [
    SelectChoice("search", "Search engines"),
    SelectChoice("social", "Social media"),
    SelectChoice("newsletter", "Newsletters (utm_medium=email or newsletter)"),
    SelectChoice("direct", "Direct (no referrer)"),
    SelectChoice("other", "Other sites and our own pages"),
]
DONOR_STATE_CHOICES = [
    SelectChoice("never", "Never gave"),
    SelectChoice("lapsed", "Lapsed donors (win-back copy)"),
    SelectChoice("current", "Current supporters (thank-you copy)"),
]
# The copy staff write per placement, in the editor's order.
PLACEMENT_LABELS = {
    "top": "Top of the article",
    "bottom": "Bottom of the article",
    "banner": "Banner",
    "header": "Header button (the button label is shown; heading and body open below it)",
}
ROLE_CHOICES = [
    SelectChoice(StaffRole.VIEWER.value, "Viewer: reads reports"),
    SelectChoice(
        StaffRole.ADMIN.value, "Admin: also edits campaigns, replays events, manages staff"
    ),
]


class SignInForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class SupportTextsForm(FlaskForm):  # type: ignore[misc]
    heading = StringField("Heading", validators=[DataRequired(), Length(max=HEADING_MAX)])
    intro = TextAreaField("Text above the form", validators=[DataRequired(), Length(max=INTRO_MAX)])


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button-only form (sign out, replay, unlock): the CSRF token is the point."""


class NewStaffForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "Email",
        validators=[
            DataRequired(),
            Length(max=320),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="give an email address"),
        ],
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default=StaffRole.VIEWER.value)
    password = PasswordField(
        f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
    )


class ChangePasswordForm(FlaskForm):  # type: ignore[misc]
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    new_password = PasswordField(
        f"New password (at least {MIN_PASSWORD_LENGTH} characters)",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
    )
    new_password_again = PasswordField(
        "New password again", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class ChangeRoleForm(FlaskForm):  # type: ignore[misc]
    role = SelectField("Role", choices=ROLE_CHOICES)


class VariantForm(Form):  # type: ignore[misc]
    """One A/B variant; nested in CampaignForm, which carries the CSRF token."""

    key = StringField(
        "Variant key",
        validators=[
            Optional(),
            Length(max=40),
            Regexp(VARIANT_KEY_PATTERN, message=VARIANT_KEY_HINT),
        ],
    )
    weight = IntegerField(
        "Weight", default=1, validators=[Optional(), NumberRange(min=0, max=1000)]
    )
    remove = BooleanField("Remove this variant")
    top_heading = StringField("Heading", validators=[Length(max=200)])
    top_body = TextAreaField("Body", validators=[Length(max=2000)])
    top_cta = StringField("Button", validators=[Length(max=80)])
    bottom_heading = StringField("Heading", validators=[Length(max=200)])
    bottom_body = TextAreaField("Body", validators=[Length(max=2000)])
    bottom_cta = StringField("Button", validators=[Length(max=80)])
    banner_heading = StringField("Heading", validators=[Length(max=200)])
    banner_body = TextAreaField("Body", validators=[Length(max=2000)])
    banner_cta = StringField("Button", validators=[Length(max=80)])
    header_heading = StringField("Heading", validators=[Length(max=200)])
    header_body = TextAreaField("Body", validators=[Length(max=2000)])
    header_cta = StringField("Button", validators=[Length(max=80)])
    asks = FieldList(FormField(AsksForm), min_entries=0, max_entries=10)

    def validate_key(self, field: Any) -> None:
        written = any(
            (getattr(self, f"{placement}_{part}").data or "").strip()
            for placement in PLACEMENT_LABELS
            for part in _PARTS
        )
        if written and not (field.data or "").strip():
            raise ValidationError("give this variant a key, or its copy is not saved")

    def validate_top_heading(self, field: Any) -> None:
        _check_complete(self, "top")

    def validate_bottom_heading(self, field: Any) -> None:
        _check_complete(self, "bottom")

    def validate_banner_heading(self, field: Any) -> None:
        _check_complete(self, "banner")

    def validate_header_heading(self, field: Any) -> None:
        _check_complete(self, "header")


def _check_complete(form: VariantForm, placement: str) -> None:
    values = [(getattr(form, f"{placement}_{part}").data or "").strip() for part in _PARTS]
    if any(values) and not all(values):
        raise ValidationError(
            f"give the {placement} box a heading, a body and a button, or leave all three empty"
        )


_PARTS = ("heading", "body", "cta")


class CampaignForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        "Slug (used in reports and links; cannot change later)",
        validators=[
            DataRequired(),
            Length(max=80),
            Regexp(SLUG_PATTERN, message=SLUG_HINT),
        ],
    )
    active = BooleanField("Active", default=True)
    starts_at = DateTimeLocalField("Starts (UTC)", format=DATETIME_FORMAT, validators=[Optional()])
    ends_at = DateTimeLocalField("Ends (UTC)", format=DATETIME_FORMAT, validators=[Optional()])
    priority = IntegerField(
        "Priority (higher shows first)",
        default=0,
        validators=[Optional(), NumberRange(min=-1000, max=1000)],
    )
    goal_supporters = IntegerField(
        "Supporter goal", validators=[Optional(), NumberRange(min=1, max=100_000_000)]
    )
    goal_behaviour = SelectField(
        "When the goal is reached",
        choices=GOAL_BEHAVIOUR_CHOICES,
        default=GoalBehaviour.THANK_YOU.value,
    )
    goal_step = IntegerField(
        "Next goal step", validators=[Optional(), NumberRange(min=1, max=100_000_000)]
    )
    thank_you_heading = StringField("Thank-you heading", validators=[Length(max=200)])
    thank_you_body = TextAreaField("Thank-you body", validators=[Length(max=2000)])
    include_sections = StringField("Only in sections (comma-separated)")
    exclude_sections = StringField("Never in sections")
    include_tags = StringField("Only with tags")
    exclude_tags = StringField("Never with tags")
    min_articles_read = IntegerField(
        "Minimum articles read (last 30 days)",
        default=0,
        validators=[Optional(), NumberRange(min=0, max=1000)],
    )
    formats = CheckboxesField(
        "Formats (none ticked: the boxes above and below the story)",
        choices=FORMAT_CHOICES,
        default=["inline"],
    )
    max_views = IntegerField(
        "Show to one reader at most this many times (empty: no limit)",
        validators=[Optional(), NumberRange(min=1, max=1000)],
    )
    views_days = IntegerField(
        "…in this many days", default=30, validators=[Optional(), NumberRange(min=1, max=365)]
    )
    max_dismissals = IntegerField(
        "Stop after the reader closed it this many times (empty: never)",
        validators=[Optional(), NumberRange(min=1, max=100)],
    )
    devices = CheckboxesField("Devices (none ticked: all)", choices=DEVICE_CHOICES)
    referrers = CheckboxesField("Readers coming from (none ticked: all)", choices=REFERRER_CHOICES)
    countries = StringField(
        "Only in countries (two-letter codes, comma-separated)",
        validators=[
            Length(max=400),
            Regexp(r"^[A-Za-z]{2}(\s*,\s*[A-Za-z]{2})*$|^\s*$", message="two-letter codes"),
        ],
    )
    donor_states = CheckboxesField(
        "Donor state (none ticked: everyone except current supporters)",
        choices=DONOR_STATE_CHOICES,
    )
    variants = FieldList(FormField(VariantForm), min_entries=1, max_entries=10)

    def validate_ends_at(self, field: Any) -> None:
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError("the end must be after the start")

    def validate_goal_step(self, field: Any) -> None:
        if self.goal_behaviour.data == GoalBehaviour.NEXT_GOAL.value and not field.data:
            raise ValidationError("moving to the next goal needs a step")

    def validate_variants(self, field: Any) -> None:
        kept = [v for v in field.entries if v.key.data and not v.remove.data]
        keys = [v.key.data for v in kept]
        if not kept:
            raise ValidationError("a campaign needs at least one variant")
        if len(keys) != len(set(keys)):
            raise ValidationError("variant keys must be different")
        if not any((v.weight.data or 0) > 0 for v in kept):
            raise ValidationError("at least one variant needs a weight above 0")
