"""Form controls for levers: one Streamlit widget per lever kind, and the parsing of what was typed.

The widgets accept any value (no minimum on a number field): a wrong value is reported by the same
loader and schema as the command line, next to the field, instead of being silently clamped.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
import yaml

from sim.app.guide import KINDS_WITH_UNITS, Unreadable, count_value, help_for, share_shown, share_value
from sim.app.levers import CLOSURES, COUNT, HOURS, OPTIONAL_COUNT, PERISHABLE_FIRST, PRIORITY, SHARE, Lever

ALWAYS = "always"
NO_PRIORITY = "none (first come, first served)"
PERISHABLE = "perishable trucks first"


__all__ = ["Unreadable", "label", "parse", "render", "shown", "widget_key"]


def widget_key(lever: Lever, base_id: str) -> str:
    """A widget's key: the lever's path (CSS-safe, so tests and styles can find it) under its base."""
    return f"lv-{base_id}-{'-'.join(lever.key)}"


def label(lever: Lever) -> str:
    """A lever's label on the page, with its unit."""
    unit = KINDS_WITH_UNITS.get(lever.kind, "")
    return f"{lever.label} ({unit})" if unit else lever.label


def shown(lever: Lever, value: Any) -> Any:
    """A value as its widget shows it (whole numbers as floats, so that 8.5 can be typed and refused;
    shares as percentages)."""
    if lever.kind in (COUNT, OPTIONAL_COUNT):
        return None if value is None else float(value) if isinstance(value, int | float) else value
    if lever.kind == SHARE:
        return share_shown(value)
    if lever.kind == HOURS:
        return ALWAYS if value is None else ", ".join(value)
    if lever.kind == PRIORITY:
        if not value:
            return NO_PRIORITY
        return PERISHABLE if value == PERISHABLE_FIRST else _flow(value)
    if lever.kind == CLOSURES:
        return "\n".join(f"- {_flow(c)}" for c in value)
    return value


def described(lever: Lever) -> str:
    """The base value in words, for the caption below a field."""
    if lever.base is None:
        return "none"
    if lever.kind == CLOSURES:
        return f"{len(lever.base)} closure(s)" if lever.base else "none"
    if lever.kind == SHARE:
        return f"{share_shown(lever.base):g}%"
    if lever.kind in (COUNT, OPTIONAL_COUNT):
        return str(lever.base)
    return str(shown(lever, lever.base))


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def parse(lever: Lever, raw: Any) -> Any:
    """What a widget holds, as a scenario value (raises :class:`Unreadable`)."""
    if lever.kind in (COUNT, OPTIONAL_COUNT):
        return count_value(raw, lever.kind == OPTIONAL_COUNT)
    if lever.kind == SHARE:
        return share_value(raw)
    if lever.kind == HOURS:
        text = str(raw or "").strip()
        if text in ("", ALWAYS):
            return None
        return [w.strip() for w in text.replace(";", ",").split(",") if w.strip()]
    if lever.kind == PRIORITY:
        if raw == NO_PRIORITY:
            return []
        if raw == PERISHABLE:
            return PERISHABLE_FIRST
        return lever.base  # the base's own rules, shown as they are
    if lever.kind == CLOSURES:
        try:
            value = yaml.safe_load(str(raw or "")) or []
        except yaml.YAMLError as exc:
            raise Unreadable(f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
        if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
            raise Unreadable("write one closure a line: - {start: 2021-06-01, end: 2021-06-03, reason: ...}")
        return value
    return raw


def render(lever: Lever, key: str, problems: list[str]) -> None:
    """Draw the lever's widget, its base value and source, and its problems right below it."""
    help_text = f"{help_for(lever)} Base: {described(lever)}. Source: {lever.source}."
    if key not in st.session_state:
        st.session_state[key] = shown(lever, lever.base)
    name = label(lever)
    if lever.kind == COUNT:
        st.number_input(name, step=1.0, format="%g", key=key, help=help_text)
    elif lever.kind == OPTIONAL_COUNT:
        st.number_input(name, step=1.0, format="%g", key=key, placeholder="no limit", help=help_text)
    elif lever.kind == SHARE:
        st.number_input(name, step=5.0, format="%g", key=key, help=help_text)
    elif lever.kind == HOURS:
        st.text_input(name, key=key, help=help_text)
    elif lever.kind == PRIORITY:
        options = [NO_PRIORITY, PERISHABLE]
        if shown(lever, lever.base) not in options:
            options.append(shown(lever, lever.base))
        st.selectbox(name, options, key=key, help=help_text)
    elif lever.kind == CLOSURES:
        st.text_area(name, key=key, help=help_text, height=90)
    st.caption(f"base **{described(lever)}** · {lever.source}")
    for text in problems:
        st.error(text, icon="⚠️")
