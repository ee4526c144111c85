"""A study's settings as the page's widgets, made from its declaration (:mod:`sim.studies.registry`).

Each setting becomes the widget its kind calls for, with the declared default, limits, choices and help:
the page shows the same defaults as the command line and the API (``tests/test_registry.py``). A setting
with no default (the user must give it) starts empty. ``st`` is Streamlit, or anything with its widget
functions (a column, the sidebar, a test's recorder).
"""

from __future__ import annotations

from typing import Any

from sim.studies.registry import REQUIRED, Setting, Study


def label(setting: Setting) -> str:
    """The widget's label: the setting's name in words."""
    return setting.name.replace("_", " ").capitalize()


def widget(st: Any, s: Setting, default: Any, key: str, title: str | None = None) -> Any:
    """One setting's widget; its value (None for an empty optional number or text); ``title``: its label
    in the page's language (the setting's name in words by default)."""
    value = None if default is REQUIRED else default
    name = title or label(s)
    common = {"key": key, "help": s.help}
    if s.kind == "flag":
        return st.checkbox(name, value=bool(value), **common)
    if s.choices:
        choices = list(s.choices)
        return st.selectbox(name, choices, index=choices.index(value) if value in choices else 0, **common)
    if s.kind in ("int", "float"):
        step = 1 if s.kind == "int" else None
        cast = int if s.kind == "int" else float
        limits = {
            name: cast(bound)
            for name, bound in (("min_value", s.minimum), ("max_value", s.maximum))
            if bound is not None
        }
        shown = None if value is None else cast(value)
        return st.number_input(name, value=shown, step=step, placeholder="not set", **limits, **common)
    if s.many:
        text = st.text_area(name, value="\n".join(str(v) for v in value or ()), **common)
        return [line.strip() for line in str(text or "").splitlines() if line.strip()]
    text = st.text_input(name, value="" if value is None else str(value), **common)
    return text.strip() or None


def replications_widget(
    st: Any, declared: Study, key: str, scenario_default: int | None = None, title: str = "Replications"
) -> int | None:
    """The study's replications: its declared default (or the scenario's), at least its least; ``title``:
    the label in the page's language."""
    rule = declared.replications
    if rule is None:
        return None
    default = rule.default if rule.default is not None else scenario_default
    return st.number_input(
        title,
        min_value=rule.least,
        value=default,
        step=1,
        key=key,
        help=rule.help,
        placeholder="the scenario's",
    )


def study_form(st: Any, declared: Study, prefix: str, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The study's page settings (or ``only`` these), each as its widget; the values given, by name
    (empty optional ones left out, so that the study's own default applies)."""
    values: dict[str, Any] = {}
    for s in declared.settings:
        if not s.page or (only is not None and s.name not in only):
            continue
        value = widget(st, s, declared.default(s.name), f"{prefix}_{s.name}")
        if value is not None and value != []:
            values[s.name] = value
    return values
