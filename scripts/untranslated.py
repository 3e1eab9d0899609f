"""What the English catalog still lacks, and a way to fill it.

    python scripts/untranslated.py              # list missing, fuzzy and placeholder-mismatched entries
    python scripts/untranslated.py --json       # the same as a JSON object {msgid: ""} to fill in
    python scripts/untranslated.py --apply F    # write the msgstrs of the JSON object in F into the catalog

The workflow after adding strings: ``make translations-update`` (extract + merge), this
script to see what is new, ``--apply`` with the translations, ``make translations``.
Exit status 1 while anything is missing (without ``--apply``).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"

# %(name)s-style and positional %-placeholders, and {name}-style ones
_PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifrx%]")
_BRACES = re.compile(r"\{(\w*)\}")


def placeholders(text: str) -> list[str]:
    """The placeholders of ``text``, sorted (``%%`` is not one)."""
    found = [m.group(0) for m in _PERCENT.finditer(text) if m.group(0) != "%%"]
    found += ["{" + name + "}" for name in _BRACES.findall(text)]
    return sorted(found)


def _texts(value) -> list[str]:
    if isinstance(value, (tuple, list)):
        return [v or "" for v in value]
    return [value or ""]


def problem(message) -> str | None:
    """Why ``message`` (a babel Message) is not a usable translation, or None."""
    ids, strs = _texts(message.id), _texts(message.string)
    if not any(s.strip() for s in strs) or not all(s.strip() for s in strs):
        return "untranslated"
    if message.fuzzy:
        return "fuzzy"
    wanted = placeholders(ids[0])
    for text in strs:
        if placeholders(text) != wanted:
            return f"placeholders {placeholders(text)} != {wanted}"
    return None


def load(path: Path = CATALOG):
    with path.open("rb") as handle:
        return read_po(handle)


def problems(path: Path = CATALOG) -> list[tuple[str, str]]:
    """(msgid, reason) of every entry that is missing, fuzzy or has other placeholders."""
    out = []
    for message in load(path):
        if not message.id:
            continue  # the header
        reason = problem(message)
        if reason:
            out.append((_texts(message.id)[0], reason))
    return out


def apply(translations: dict[str, str], path: Path = CATALOG) -> int:
    """Write ``translations`` ({msgid: msgstr}) into the catalog; returns how many were set."""
    catalog = load(path)
    done = 0
    for message in catalog:
        if not message.id or isinstance(message.id, (tuple, list)):
            continue
        text = translations.get(message.id)
        if text:
            message.string = text
            message.flags.discard("fuzzy")
            done += 1
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, include_previous=False)
    return done


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the missing msgids as a JSON object")
    parser.add_argument("--apply", metavar="FILE", help="fill msgstrs from a JSON object {msgid: msgstr}")
    parser.add_argument("--catalog", default=str(CATALOG), help="the .po file (default: English)")
    args = parser.parse_args(argv)
    path = Path(args.catalog)
    if args.apply:
        translations = json.loads(Path(args.apply).read_text(encoding="utf-8"))
        print(f"{apply(translations, path)} entries set in {path}")
        return 0
    found = problems(path)
    if args.json:
        print(json.dumps({msgid: "" for msgid, _ in found}, ensure_ascii=False, indent=1))
    else:
        for msgid, reason in found:
            print(f"{reason}\t{msgid}")
        print(f"{len(found)} to do in {path}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
