"""The page's panel for any registered study: pick it, fill its form (made from its declaration), run it.

Every study the registry finds is offered with its own settings, defaults, limits and help
(:mod:`sim.app.study_form`), so a study added as one module appears here without an edit. It runs in the
page's process (a small study takes seconds; long ones belong to the command line, whose command the
panel prints), writes its folder under the results root, and shows its summary table. A mistake in a
setting gets the command line's message, and nothing runs.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from sim.app.language import t
from sim.app.study_form import replications_widget, study_form
from sim.errors import UserError
from sim.studies.options import StudyOptions
from sim.studies.registry import REQUIRED, Study, studies


def command_line(declared: Study, source: Path, values: dict[str, Any], replications: int | None) -> str:
    """The same study as a command (to run it again, or a larger one, from a terminal)."""
    words = ["bordersim", declared.name, str(source)]
    for s in declared.settings:
        if s.name not in values:
            if not s.page and s.flag == "" and declared.default(s.name) is REQUIRED:
                words.append((s.metavar or s.name).upper())  # a file the page does not pick: named
            continue
        value = values[s.name]
        if s.kind == "flag":
            words += [s.option] if value else []
        elif s.many:
            words += [w for v in value for w in (s.option, str(v))]
        else:
            words += [s.option, str(value)]
    if replications is not None:
        words += ["--replications", str(replications)]
    return shlex.join(words)


def panel(st: Any, scenarios: Path, root: Path) -> Any:
    """Draw the panel into ``st`` (Streamlit, or a test's recorder); the result of a study run, if any."""
    found = studies()
    name = st.selectbox(t("study"), list(found), key="any_study", help="every study of bordersim")
    declared = found[name]
    st.caption(declared.help)
    files = sorted(str(p.relative_to(scenarios)) for p in scenarios.rglob("*.yaml"))
    source = scenarios / st.selectbox(declared.source.help, files, key=f"any_{name}_source")
    values = study_form(st, declared, f"any_{name}")
    replications = replications_widget(st, declared, f"any_{name}_reps", title=t("replications"))
    st.code(command_line(declared, source, values, replications), language="bash")
    if not st.button(t("run_study"), key=f"any_{name}_run"):
        return None
    try:
        result = declared.run(source, StudyOptions(replications=replications, root=root), **values)
    except UserError as exc:
        for problem in exc.problems:
            st.error(str(problem))
        return None
    if getattr(result, "failures", None):
        st.error(f"{len(result.failures)} replication(s) failed; run the command above to see why")
        return result
    summary = declared.summary_of(result)
    if summary is not None:
        st.dataframe(summary, hide_index=True)
    st.caption(f"Saved in {getattr(result, 'folder', None)}")
    return result


def render(scenarios: Path, root: Path) -> None:
    """The panel, folded under the results."""
    import streamlit as st

    with st.expander(t("any_study")):
        panel(st, scenarios, root)
