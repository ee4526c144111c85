"""Readable names of a scenario's inputs, from their dotted keys: what a planner reads on a chart.

An uncertain input (or a free parameter) is named in the scenario by a dotted key such as
``gates.huu_nghi.export.stages.china_side.changes.0.daily_cap``; a chart labelled with the key makes the
planner decode it. Here the key becomes 'Huu Nghi export, China side: daily cap (change 1)': the place
first (the gate by its name in the scenario when given, else its key title-cased; the direction; the
stage), then the field in words, list positions counted from 1. Patterns (``*``, ``[!i]*``) read as
'every gate' or the streams whose names start so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

DIRECTIONS = ("export", "import")
# list parts: the word for one of their elements ('changes.0' -> 'change 1')
ITEMS = {
    "changes": "change",
    "schedule": "schedule step",
    "closures": "closure",
    "periods": "period",
    "steps": "step",
}
# field words that read better otherwise
WORDS = {
    "from": "start",
    "to": "end",
    "daily_cap": "daily cap",
    "upstream": "hold at origin",
    "reneging": "giving up",
}
PATTERN = re.compile(r"[*?\[]")
MORE = re.compile(r" \(\+\d+ more\)$")


def _words(part: str) -> str:
    return WORDS.get(part, part.replace("_", " "))


def _place_words(key: str, names: Mapping[str, str]) -> str:
    """A gate key (or a name starting with one, e.g. an arrival stream) as a reader names it."""
    for gate in sorted(names, key=len, reverse=True):  # the longest first: 'huu_nghi_2' before 'huu_nghi'
        if key == gate:
            return names[gate]
        if key.startswith(gate + "_"):
            return f"{names[gate]} {key[len(gate) + 1 :].replace('_', ' ')}"
    return key.replace("_", " ").title()


def _pattern_words(part: str, names: Mapping[str, str], every: str) -> str:
    """A key part that may be a pattern: '*' -> every ..., 'huu_nghi_fruit_*' -> 'Huu Nghi fruit'."""
    if part == "*":
        return every
    if PATTERN.search(part):
        prefix = PATTERN.split(part, maxsplit=1)[0].strip("_")
        return _place_words(prefix, names) if prefix else every
    return _place_words(part, names)


def input_label(key: str, gate_names: Mapping[str, str] | None = None) -> str:
    """The readable name of the input a dotted ``key`` names; ``gate_names`` maps gate keys to their names
    in the scenario (a gate without one is its key title-cased)."""
    more = MORE.search(key)  # a sensitivity assumption used in several places: 'key (+2 more)'
    if more:
        return input_label(key[: more.start()], gate_names) + more.group(0)
    names = dict(gate_names or {})
    parts = key.split(".")
    place: list[str] = []
    field: list[str] = []
    where: list[str] = []  # list positions: '(change 1)'
    i = 0
    if parts[0] == "gates" and len(parts) > 1:
        place.append(_pattern_words(parts[1], names, "every gate"))
        i = 2
    elif parts[0] == "arrivals" and len(parts) > 1:
        place.append(_pattern_words(parts[1], names, "every stream's") + " arrivals")
        i = 2
    elif parts[0] == "rail":
        place.append("Rail")
        i = 1
    while i < len(parts):
        part = parts[i]
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        if part in DIRECTIONS and not field:
            place.append(part)
        elif part == "stages" and nxt is not None:
            if place:
                place[-1] += ","
            place.append(_words(nxt).capitalize() if not PATTERN.search(nxt) else "every stage")
            i += 1
        elif part in ITEMS and nxt is not None:
            if nxt.isdigit():
                where.append(f"{ITEMS[part]} {int(nxt) + 1}")
            elif nxt == "*":
                where.append(f"every {ITEMS[part]}")
            elif PATTERN.search(nxt):
                where.append(f"{part} {nxt}")
            else:
                where.append(f"{ITEMS[part]} {_words(nxt)}")
            i += 1
        elif part.isdigit():
            where.append(f"item {int(part) + 1}")
        else:
            field.append(_words(part))
        i += 1
    head = " ".join(p for p in place if p)
    what = " ".join(field) or "value"
    text = f"{head}: {what}" if head else what
    return text[0].upper() + text[1:] + (f" ({', '.join(where)})" if where else "")


def input_labels(keys: Sequence[str], gate_names: Mapping[str, str] | None = None) -> list[str]:
    """Readable names of ``keys``, one each and all different: two keys that read the same keep their
    key beside the name (never two rows a reader cannot tell apart)."""
    labels = [input_label(k, gate_names) for k in keys]
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    return [f"{label} [{key}]" if seen[label] > 1 else label for label, key in zip(labels, keys, strict=True)]
