"""Form controls for levers: one Streamlit widget per lever kind, and the parsing of what was typed.

The widgets accept any value (no minimum on a number field): a wrong value is reported by the same
loader and schema as the command line, next to the field, instead of being silently clamped.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import streamlit as st
import yaml

from sim.app.guide import KINDS_WITH_UNITS, Unreadable, count_value, help_for, share_shown, share_value
from sim.app.levers import CLOSURES, COUNT, HOURS, OPTIONAL_COUNT, PERISHABLE_FIRST, PRIORITY, SHARE, Lever

ALWAYS = "always"
NO_PRIORITY = "none (first come, first served)"
PERISHABLE = "perishable trucks first"


__all__ = ["Unreadable", "label", "parse", "raw_value", "render", "set_value", "shown", "widget_key"]
CLOSURE_COLUMNS = ("start", "end", "stages", "reason", "only trucks with")
ROWS = "-rows"  # the session key (after the widget's) of a closures table's rows before the edits


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
        return [closure_row(c) for c in value or []]
    return value


def _when_text(t: Any, end: bool) -> str:
    """A closure's start or end as the table shows it: a date alone for a whole day (an end at midnight
    is the end of the day before, as the scenario's bare dates mean), else date and time."""
    if isinstance(t, str):
        return t
    if isinstance(t, datetime):
        if t.time() == datetime.min.time():
            return (t - timedelta(days=1) if end else t).strftime("%Y-%m-%d")
        return t.strftime("%Y-%m-%d %H:%M")
    return t.isoformat() if isinstance(t, date) else str(t)


def closure_row(closure: dict[str, Any]) -> dict[str, str]:
    """One closure as a row of the table: dates as text, stages comma-separated, a ban's condition."""
    when = closure.get("when")
    return {
        "start": _when_text(closure.get("start"), False),
        "end": _when_text(closure.get("end"), True),
        "stages": ", ".join(closure.get("stages") or []),
        "reason": str(closure.get("reason") or ""),
        "only trucks with": ", ".join(f"{k}={v}" for k, v in when.items()) if when else "",
    }


def _moment(text: Any, field: str) -> date | datetime:
    value = str(text or "").strip()
    for fmt, whole_day in (("%Y-%m-%d", True), ("%Y-%m-%d %H:%M", False), ("%Y-%m-%dT%H:%M", False)):
        try:
            moment = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return moment.date() if whole_day else moment
    raise Unreadable(f"{field} '{value}' is not a date (YYYY-MM-DD, a whole day) or YYYY-MM-DD HH:MM")


def _condition(text: str) -> dict[str, Any] | None:
    if not text.strip():
        return None
    out: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = (p.strip() for p in part.partition("="))
        if not sep or not key:
            raise Unreadable(f"'only trucks with' takes key=value pairs, e.g. perishable=true (got '{text}')")
        out[key] = yaml.safe_load(value)
    return out


def closures_value(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table's rows as the scenario's closures (blank rows left out)."""
    out = []
    for i, row in enumerate(rows, start=1):
        if not any(str(row.get(c) or "").strip() for c in CLOSURE_COLUMNS):
            continue
        try:
            end = _moment(row.get("end"), "end")
            if not isinstance(end, datetime):  # a whole last day: until 24:00, as the scenario reads it
                end = datetime(end.year, end.month, end.day) + timedelta(days=1)
            closure: dict[str, Any] = {"start": _moment(row.get("start"), "start"), "end": end}
            stages = [s.strip() for s in str(row.get("stages") or "").split(",") if s.strip()]
            if stages:
                closure["stages"] = stages
            if str(row.get("reason") or "").strip():
                closure["reason"] = str(row["reason"]).strip()
            when = _condition(str(row.get("only trucks with") or ""))
            if when:
                closure["when"] = when
        except Unreadable as exc:
            raise Unreadable(f"row {i}: {exc}") from None
        out.append(closure)
    return out


def apply_edits(rows: list[dict[str, Any]], edits: Any) -> list[dict[str, Any]]:
    """The table's rows after the data editor's edits (its session state: edited, added, deleted rows)."""
    edits = edits if isinstance(edits, dict) else {}  # anything else is no edit (e.g. an older widget's)
    out = [dict(r) for r in rows if isinstance(r, dict)]
    for index, changes in (edits.get("edited_rows") or {}).items():
        if int(index) < len(out):
            out[int(index)].update(changes)
    deleted = {int(i) for i in edits.get("deleted_rows") or []}
    out = [r for i, r in enumerate(out) if i not in deleted]
    out += [dict(r) for r in edits.get("added_rows") or []]
    return out


def raw_value(lever: Lever, key: str) -> Any:
    """What the lever's widget holds now (a closures table: its rows with the edits applied)."""
    if lever.kind == CLOSURES:
        return apply_edits(st.session_state.get(key + ROWS, []), st.session_state.get(key))
    return st.session_state[key]


def set_value(lever: Lever, key: str, value: Any) -> None:
    """Put a value in the lever's widget (a closures table: new rows, its edits forgotten)."""
    if lever.kind == CLOSURES:
        st.session_state[key + ROWS] = shown(lever, value)
        if key in st.session_state:
            del st.session_state[key]
        return
    st.session_state[key] = shown(lever, value)


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
        return closures_value(list(raw or []))
    return raw


def render(lever: Lever, key: str, problems: list[str]) -> None:
    """Draw the lever's widget, its base value and source, and its problems right below it."""
    help_text = f"{help_for(lever)} Base: {described(lever)}. Source: {lever.source}."
    if lever.kind == CLOSURES:
        if key + ROWS not in st.session_state:
            st.session_state[key + ROWS] = shown(lever, lever.base)
    elif key not in st.session_state:
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
        import pandas as pd

        rows = pd.DataFrame(st.session_state[key + ROWS], columns=list(CLOSURE_COLUMNS)).astype(str)
        text = st.column_config.TextColumn
        st.markdown(name, help=help_text)
        st.data_editor(
            rows,
            key=key,
            num_rows="dynamic",
            hide_index=True,
            use_container_width=True,
            column_config={
                "start": text("first day", help="YYYY-MM-DD (from 00:00), or YYYY-MM-DD HH:MM"),
                "end": text("last day", help="YYYY-MM-DD (to 24:00 of that day), or YYYY-MM-DD HH:MM"),
                "stages": text("stages", help="comma-separated; empty: the whole gate"),
                "reason": text("reason"),
                "only trucks with": text("only trucks with", help="a ban: e.g. perishable=true"),
            },
        )
    st.caption(f"base **{described(lever)}** · {lever.source}")
    for text in problems:
        st.error(text, icon="⚠️")
