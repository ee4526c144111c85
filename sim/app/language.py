"""The page's language (issue 29 row 17): a switch in the sidebar, English by default, remembered in the
session; every word the page draws is looked up in :mod:`sim.present.page_words` in that language.
Kept apart so that a panel drawn alone (tests use Streamlit's AppTest) reads the same choice."""

from __future__ import annotations

from typing import Any

from sim.present.page_words import EN, LANGUAGES, SWITCH_LABEL, language, word

KEY = "lang"  # the session's language, as the switch sets it


def lang() -> str:
    """The language chosen in this session (English until the switch is used, or outside a page)."""
    try:
        import streamlit as st
    except ImportError:  # the page's panels drawn into a test's recorder without the app extra
        return EN
    return language(st.session_state.get(KEY, EN))


def t(key: str, **values: object) -> str:
    """The message ``key`` in the session's language."""
    return word(key, lang(), **values)


def switch(side: Any) -> str:
    """The language switch (a radio in the sidebar, first: the page's words below follow it)."""
    import streamlit as st

    st.session_state.setdefault(KEY, EN)
    codes = list(LANGUAGES)
    side.radio(SWITCH_LABEL, codes, key=KEY, format_func=LANGUAGES.__getitem__, horizontal=True)
    return lang()
