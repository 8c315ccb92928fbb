"""Every reader-facing string has a German and a French translation, compiled as shipped.

The sources are extracted here exactly as `make translations` does (babel.cfg), so a new
string wrapped in gettext without its translations fails this test, naming the string.
"""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo

from scripts.translations import LANGUAGES, extract, po_path, read

TRANSLATED = ("de", "fr")


@pytest.fixture(scope="module")
def template() -> Catalog:
    return extract()


def _key(message_id: object) -> object:
    return message_id if isinstance(message_id, str) else tuple(message_id)  # type: ignore[arg-type]


def test_the_sources_have_reader_facing_strings_to_translate(template: Catalog) -> None:
    ids = {_key(message.id) for message in template if message.id}
    # One from each kind of source: Python, a page, an email, the widget.
    assert "Choose an amount or enter your own." in ids
    assert "How would you like to give?" in ids
    assert "See and manage your gifts" in ids
    assert len(ids) > 200


def _translated(string: object) -> bool:
    """Every form filled in (English leaves them empty: the source is the text)."""
    forms = string if isinstance(string, tuple | list) else (string,)
    return all(forms)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_is_translated_and_none_is_fuzzy(template: Catalog, language: str) -> None:
    catalog = read(po_path(language), language)
    problems = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        if found is None or not _translated(found.string):
            problems.append(f"untranslated: {message.id!r}")
        elif found.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
    assert not problems, f"{language}: " + "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder(language: str) -> None:
    catalog = read(po_path(language), language)
    problems = [
        f"{message.id!r}: {error}" for message, errors in catalog.check() for error in errors
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_matches_its_source(language: str) -> None:
    """The committed .mo is what the service reads: it must say what the .po says."""
    source = read(po_path(language), language)
    with po_path(language).with_suffix(".mo").open("rb") as file:
        compiled = read_mo(file)
    expected = {_key(m.id): _key(m.string) for m in source if m.id and _translated(m.string)}
    shipped = {_key(m.id): _key(m.string) for m in compiled if m.id and _translated(m.string)}
    # (Babel's compiler fills an untranslated plural with the source's own forms.)
    stale = {key: value for key, value in expected.items() if shipped.get(key) != value}
    assert not stale, "run `make translations` and commit the .mo files"
    assert len(shipped) >= len(expected)
