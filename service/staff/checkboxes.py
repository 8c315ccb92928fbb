"""A multiple choice shown as checkboxes, shared by the staff forms."""

from __future__ import annotations

from wtforms import SelectMultipleField  # type: ignore[import-untyped]
from wtforms.widgets import CheckboxInput, ListWidget  # type: ignore[import-untyped]


class CheckboxesField(SelectMultipleField):  # type: ignore[misc]
    """A multiple choice shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
