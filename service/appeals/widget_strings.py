"""The widget's words in the reader's language, sent with the site document.

static/widget.js (and widget-pass.js, which it loads for pass holders) write every
sentence as `gettext("…")`; `make translations` extracts them with the rest (babel.cfg)
and the catalogs translate them. Here the same extractor lists the widget's messages, so
the document carries exactly the translations the running widget asks for, and nothing
needs listing twice.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.extract import extract

from service.core.i18n import gettext

# The widget's only translation function (and its plural, which it does not use yet).
WIDGET_KEYWORDS = {"gettext": None}


@lru_cache(maxsize=4)
def _messages(path: Path, mtime_ns: int) -> tuple[str, ...]:
    del mtime_ns  # part of the cache key: a changed widget is read again
    with path.open("rb") as file:
        found = extract("javascript", file, keywords=WIDGET_KEYWORDS)
        return tuple(dict.fromkeys(str(message) for _line, message, _c, _ctx in found))


def widget_messages(path: Path) -> tuple[str, ...]:
    """Every message the widget at `path` translates, in order of appearance."""
    return _messages(path, path.stat().st_mtime_ns)


# The widget's scripts, beside widget.js: it loads the pass's part for holders only.
WIDGET_SCRIPTS = ("widget.js", "widget-pass.js")


def widget_strings(path: Path) -> dict[str, str]:
    """The messages of the widget at `path` and of its pass script, in the language in
    force: only those that differ from the English."""
    messages = [
        message
        for name in WIDGET_SCRIPTS
        if (path.parent / name).exists()
        for message in widget_messages(path.parent / name)
    ]
    translated = {message: gettext(message) for message in messages}
    return {message: text for message, text in translated.items() if text != message}
