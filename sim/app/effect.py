"""The what-if page's effect panel: the group shown (picked by default where the policies change the
decision measure most), the decision's sentences and ranking, and a row of tiles per policy, each row
named by its policy. Kept out of page.py so that it can be drawn alone (tests use Streamlit's AppTest).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from sim.app.language import lang, t


def headline(
    comp: pd.DataFrame,
    names: list[str],
    group: tuple[str, str],
    manifest: dict[str, Any] | None = None,
    rate: Any = None,
) -> None:
    """The effect on one group's key metrics, a row of tiles per policy: the policy's value and its
    paired difference, coloured only where the change is clear (:func:`sim.present.page_text.tiles`),
    money also in dong at the base scenario's ``rate`` (if it states one).
    Each row is headed by its policy's name and each tile's help names it too: with several policies,
    rows of unnamed tiles cannot be told apart."""
    from sim.present.page_text import tile_row_title, tiles

    for policy, row in tiles(comp, names, group, manifest, rate, lang()):
        st.markdown(tile_row_title(policy, names[0], lang()))
        cols = st.columns(len(row))
        for col, tile in zip(cols, row, strict=True):
            col.metric(
                tile.label,
                tile.value,
                tile.delta,
                delta_color=tile.colour,
                help=f"{policy}. {t('tile_help')}",
            )


def decision_sentences(
    comp: pd.DataFrame,
    group: tuple[str, str],
    manifest: dict[str, Any] | None = None,
    swings: pd.DataFrame | None = None,
    rate: Any = None,
) -> None:
    """The decision table, then its sentences, on ``group`` (the page passes the objective's own), with
    the objective and the relevance thresholds the comparison was summarised with (the terminal's and
    the report's): which policy wins, by how much, and how sure (or that it cannot say); with ``swings``
    (the comparison ran with swing), how far each policy's effect moves over its own assumptions, in
    words and as a ranking column; ``rate``: the base scenario's exchange rate (money also in dong), if
    it states one."""
    from sim.present.decision_text import decision_sentences as sentences
    from sim.present.page_text import group_decision, rate_text

    decision = group_decision(comp, group, manifest, swings, rate)
    # None: the group has no values of the objective (e.g. a flow the scenarios lack); the rate of the dong
    # is the last line, stated once for the whole panel (the tiles' dong too), never again in the sentences
    lines = sentences(decision, rate_line=False) if decision is not None else []
    if rate is not None:
        lines.append(rate_text(rate.vnd_per_usd, rate.source, lang()))
    if decision is not None and (len(decision.ranking) > 2 or decision.swings):  # several, or a swing
        decision_table(decision)  # the table leads; its sentences follow
    if lines:
        st.markdown("\n".join(f"- {sentence}" for sentence in lines))


def decision_table(decision: Any) -> None:
    """The decision table (the ranking on the objective, money also in dong) in the page's language."""
    from sim.present.page_text import ranking_table

    title, headers, rows = ranking_table(decision, lang())
    st.caption(title)
    st.dataframe(pd.DataFrame(rows, columns=headers), hide_index=True, use_container_width=True)


def rate_caption(rate: Any) -> None:
    """The exchange rate the page's dong are at (``rate``: the base scenario's ``exchange_rate``, or a
    decision, which carries it), with its source, once; nothing without a rate."""
    from sim.present.page_text import rate_text

    if rate is None:
        return
    per_usd = getattr(rate, "vnd_per_usd", None)
    text = rate_text(per_usd, getattr(rate, "source", None) or getattr(rate, "rate_source", ""), lang())
    if text:
        st.caption(text)


def group_label(
    group: tuple[str, str], names: Mapping[str, str] | None = None, language: str | None = None
) -> str:
    """The name a results group (gate and direction, or the province) shows under in the picker: the
    terminal's words, with the gate written as its scenario names it (``names``: 'Hữu Nghị')."""
    from sim.present.cells import group_label as label
    from sim.present.page_words import where_words

    return where_words(label(*group, readable=True, names=names), language or lang())


def pick_group(
    comp: pd.DataFrame,
    key: str,
    manifest: dict[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The gate and direction to show: the one the policies change most on the comparison's decision
    measure (:func:`sim.present.page_text.changed_most`), unless the user picks another."""
    from sim.groups import ALL
    from sim.present.page_text import changed_most, changed_most_label

    groups = list(dict.fromkeys(zip(comp["gate"], comp["direction"], strict=True)))
    groups.sort(key=lambda g: (g != (ALL, ALL), g[0] == ALL, g))
    first = changed_most(comp, manifest) or (ALL, ALL)
    chosen = lang()  # bound now: a format function may be called outside the script's run
    mark = changed_most_label(comp, manifest, chosen)
    return st.selectbox(
        t("group"),
        groups,
        index=groups.index(first) if first in groups else 0,
        format_func=lambda g: (
            group_label(g, names, chosen) + (mark if g == first and g != (ALL, ALL) else "")
        ),
        key=f"group-{key}",
    )
