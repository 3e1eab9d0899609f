"""The English catalog covers every Chinese string of the code, with the same placeholders.

When this fails after adding strings: ``make translations-update``, then
``python scripts/untranslated.py`` lists what needs an English text (``--apply`` fills it).
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from scripts import untranslated

ROOT = Path(__file__).resolve().parents[2]
# the keywords of `make translations-extract`
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "N_": None}


def code_msgids() -> set[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalog_msgids() -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in untranslated.load() if m.id}


def test_every_string_of_the_code_is_in_the_english_catalog():
    """An English user never meets a Chinese text that the catalog does not know."""
    missing = sorted(code_msgids() - catalog_msgids())
    assert missing == [], "run `make translations-update` and translate:\n" + "\n".join(missing)


def test_every_catalog_entry_is_translated_with_its_placeholders():
    """No entry of the English catalog is empty or fuzzy, and each keeps the msgid's %(name)s placeholders."""
    assert untranslated.problems() == []


def test_placeholder_check_catches_a_lost_or_renamed_placeholder():
    """The check the catalog test relies on tells a dropped or renamed %(name)s apart from a faithful one."""
    from babel.messages.catalog import Message

    assert untranslated.problem(Message("共 %(n)d 条", "%(n)d in total")) is None
    assert untranslated.problem(Message("共 %(n)d 条", "in total")) is not None
    assert untranslated.problem(Message("共 %(n)d 条", "%(count)d in total")) is not None
    assert untranslated.problem(Message("共 %(n)d 条", "")) == "untranslated"
    assert untranslated.problem(Message("保存", "Save", flags=["fuzzy"])) == "fuzzy"
