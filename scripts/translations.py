"""The message catalogs: extract, update and compile (`make translations`).

    python -m scripts.translations extract   # translations/messages.pot from the sources
    python -m scripts.translations update    # merge the template into every language's .po
    python -m scripts.translations compile   # write each .po's .mo (committed with it)

What is extracted from where is babel.cfg; tests/core/test_translations.py uses the same
functions to fail when a reader-facing string has no German or French translation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
LANGUAGES = ("en", "de", "fr")
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    """Every translatable message in the sources, as babel.cfg says where to look."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    catalog = Catalog(project="reader-contributions", charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=language)


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        # No source locations: they churn with every edit and translators need none.
        write_po(file, catalog, width=100, sort_output=False, omit_header=False, no_location=True)


def update() -> None:
    """Bring every language's .po up to the sources (new messages empty, old ones dropped)."""
    template = extract()
    write(template, TEMPLATE)
    for language in LANGUAGES:
        path = po_path(language)
        catalog = read(path, language) if path.exists() else Catalog(locale=language)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        write(catalog, path)


def compile_all() -> None:
    for language in LANGUAGES:
        catalog = read(po_path(language), language)
        with po_path(language).with_suffix(".mo").open("wb") as file:
            write_mo(file, catalog, use_fuzzy=False)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "extract":
        write(extract(), TEMPLATE)
    elif command == "update":
        update()
    elif command == "compile":
        compile_all()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
