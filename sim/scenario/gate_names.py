"""A gate as a user writes it: its key, or its name with or without the Vietnamese diacritics.

The Lang Son scenarios spell their gates as Vietnamese does ('Hữu Nghị', 'Tân Thanh', issue 29 row 17),
so figures and the page show the names right; a planner typing on an English keyboard writes 'Huu Nghi'
in an uploaded queue or observation file. Both must find the same gate, so names are compared folded:
any case, combining marks dropped and 'đ' read as 'd'.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from sim.scenario.schema import Gate

__all__ = ["fold", "gate_key"]


def fold(text: str) -> str:
    """``text`` without case or diacritics: 'Hữu Nghị' and 'huu nghi' both give 'huu nghi'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def gate_key(gates: Mapping[str, Gate], text: str) -> str | None:
    """The key of the gate ``text`` names (its key, or its name, folded as :func:`fold`), or None."""
    if text in gates:
        return text
    wanted = fold(text)
    for key, gate in gates.items():
        if wanted in (fold(key), fold(gate.name or "")):
            return key
    return None
