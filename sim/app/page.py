"""The what-if page (Streamlit): pick a base scenario and a window, edit levers, run, read the effect.

Started by ``bordersim app`` (``streamlit run sim/app/page.py -- --results-root DIR --scenarios DIR``).
The page holds no state of its own that matters: edits live in the browser session, and runs live in
what-if folders under the results root (:mod:`sim.app.jobs`), named in the address (``?job=...``), so a
reload shows the same run, still moving if it is still running.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
import yaml

from sim.app import controls, forecast_panel, guide, jobs, plausible, study_panel, today_panel
from sim.app.effect import decision_sentences, group_label, headline, pick_group
from sim.app.language import lang, switch, t
from sim.app.levers import Lever, lever_for, levers, values_from_policy
from sim.app.panels import panel
from sim.app.plausible import runs as plausible_runs
from sim.app.policy import Draft, check_name, policy_text, rerun_command, validate, write_policy
from sim.app.windows import windows
from sim.errors import Problem, UserError
from sim.present.page_text import decision_group, nothing_changed_text, policy_labels
from sim.present.page_words import group_words, window_words
from sim.present.plots import style
from sim.scenario import LoadedScenario, load_scenario
from sim.scenario.schema import ExchangeRate
from sim.studies.folders import COMPARISON, comparison_folders, load_study, read_swing_table, whatif_folder
from sim.studies.registry import study

DEFAULT_BASE = "lang_son/base_2021_calibrated.yaml"
COMPARE = study("compare")  # the what-if is a comparison: its settings' defaults and help are the study's
OTHERS = "(saved policies compared too)"  # the form key's entry for them
SWING = "(each policy's swing)"  # the form key's entry for the swing checkbox (only when ticked)
PLAUSIBLE = "(input sets across plausible winters)"  # the form key's entry for that switch (when on)


def options() -> argparse.Namespace:
    """The page's own options (results root, scenarios folder), passed after ``--`` by ``bordersim app``."""
    p = argparse.ArgumentParser(prog="page.py")
    p.add_argument("--results-root", type=Path, default=Path("results"))
    p.add_argument("--scenarios", type=Path, default=Path("scenarios"))
    args, _ = p.parse_known_args(sys.argv[1:])
    args.results_root = args.results_root.resolve()
    args.scenarios = args.scenarios.resolve()
    return args


def scenario_files(folder: Path) -> list[Path]:
    """The scenario files a what-if can start from (every YAML file under the scenarios folder)."""
    return sorted(p for p in folder.rglob("*.yaml") if p.is_file())


@st.cache_resource(show_spinner=False, max_entries=8)
def base_levers(path: str, mtime: float) -> tuple[LoadedScenario, list[Lever]]:
    """The base scenario and its levers (cached per file version)."""
    loaded = load_scenario(path)
    return loaded, levers(loaded)


def scratch() -> Path:
    """A per-session folder where drafts are written to be checked by the loader."""
    if "scratch" not in st.session_state:
        st.session_state["scratch"] = tempfile.mkdtemp(prefix="bordersim-app-")
    return Path(st.session_state["scratch"])


def problem_text(p: Problem) -> str:
    """A problem as the command line words it, without the draft file's temporary path."""
    return f"field '{p.path}': {p.message}" if p.path else p.message


# ---------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------
def comparison_table(comp: pd.DataFrame, names: list[str], group: tuple[str, str]) -> None:
    """The comparison of one gate and direction, as the command line prints it."""
    from sim.present.comparison_text import wide

    headers, rows, marks = wide(comp, names, *group)
    frame = pd.DataFrame(rows, columns=headers)
    emphasis = pd.DataFrame(
        [["font-weight: bold; color: #b35900" if m else "" for m in row] for row in marks], columns=headers
    )
    st.dataframe(frame.style.apply(lambda _: emphasis, axis=None), hide_index=True, use_container_width=True)


@st.cache_data(show_spinner=False, max_entries=16)
def read_comparison(
    folder: str, stamp: float
) -> tuple[pd.DataFrame, dict[str, Any], str, pd.DataFrame | None]:
    """A comparison folder's table, manifest, window in words and swing table (None: run without swing),
    cached per version of the folder."""

    study = load_study(folder)
    if study.comparison is None:
        raise UserError.single(folder, "", "not a comparison folder")
    return study.comparison, study.manifest, study.base.window_text(), read_swing_table(Path(folder))


@st.cache_data(show_spinner=False, max_entries=16)
def read_labels(folder: str, stamp: float) -> tuple[dict[str, str], ExchangeRate | None]:
    """The gates of a comparison's scenarios as they name them ('Hữu Nghị'), for the group picker and
    the titles, and the base's exchange rate (money also in dong; None: USD only); cached per version
    of the folder."""
    study = load_study(folder)
    return {g: study.gate_label(g) for g in study.gates()}, study.base.scenario.exchange_rate


def show_results(folder: Path, live: str | None = None) -> None:
    """A comparison folder: headline effects, the table with intervals, then the figures (``live``: the
    job's status while it still draws them, so they appear one by one)."""
    table = folder / COMPARISON
    stamp = table.stat().st_mtime if table.is_file() else 0.0
    try:
        comp, manifest, window, swings = read_comparison(str(folder), stamp)
    except UserError as exc:
        for p in exc.problems:
            st.error(str(p))
        return
    names = list(dict.fromkeys(comp["scenario"]))
    st.markdown(
        t(
            "compared",
            base=names[0],
            policies=", ".join(names[1:]),
            replications=manifest.get("replications"),
            seed=manifest.get("root_seed"),
            window=window,
        )
    )
    reps = int(manifest.get("replications") or 0)
    if 2 <= reps < style.RELIABLE_REPLICATIONS:
        st.warning(style.unreliable_text(reps).capitalize() + ".", icon="⚠️")
    gate_names, rate = read_labels(str(folder), stamp)
    with panel("Across plausible winters"):
        plausible.show(st, folder)  # the robust study leads, when the job ran one (issue 31)
    with panel("The decision"):  # on the comparison's own objective and group, as compare printed it
        where = decision_group(manifest)
        st.subheader(t("decision_heading", group=group_label(where, gate_names)), anchor="decision")
        decision_sentences(comp, where, manifest, swings, rate)
    group = pick_group(comp, folder.name, manifest, gate_names)  # the tiles' and figures' group
    with panel("The effect"):
        st.subheader(t("effect", group=group_label(group, gate_names)), anchor="summary")
        headline(comp, names, group, manifest, rate)
    with panel("The table of paired differences"):
        st.subheader(t("differences"), anchor="differences")
        comparison_table(comp, names, group)
    with panel("The downloads and the report"):
        exports(folder, comp, manifest, window)
    st.subheader(t("figures"), anchor="figures")
    with panel("The clearance-time figure"):
        group_figure(folder, stamp, group, gate_names)
    if live is not None:
        drawing(folder, live)
        return
    with panel("The figures"):
        figures = jobs.figures(folder)
        if not figures and st.button(t("draw"), key=f"draw-{folder.name}"):
            from sim.app.background import draw_figures

            with st.spinner("drawing"):
                draw_figures(folder)
            st.rerun()
        for fig in figures:
            st.image(fig["png"], caption=fig["caption"], use_container_width=True, alt=fig["title"])
    with panel("The map"):
        border_map(folder, stamp, names)
    st.caption(t("folder", folder=folder))


@st.cache_data(show_spinner=False, max_entries=32)
def _group_png(folder: str, stamp: float, gate: str, direction: str) -> tuple[bytes, str]:
    """The ECDF of one gate and direction as PNG bytes and its alt text (cached per folder version)."""
    import io

    import matplotlib.pyplot as plt

    from sim.groups import ALL
    from sim.present.plots.clearance import group_ecdf

    study = load_study(folder)
    with plt.rc_context(style.RC):
        fig, alt = group_ecdf(study, None if gate == ALL else gate, None if direction == ALL else direction)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=style.DPI)
        plt.close(fig)
    return buffer.getvalue(), alt


@st.cache_resource(show_spinner=False, max_entries=4)
def _map_of(folder: str, stamp: float, scenario: str) -> Any:
    """The map's frames and figure of one scenario of a results folder (built once per version)."""
    from sim.present.animate import MapFigure, frames

    study = load_study(folder)
    run = study.runs[study.names.index(scenario)]
    all_frames = frames(run, "day")
    return all_frames, MapFigure(run, all_frames)


def exports(folder: Path, comp: pd.DataFrame, manifest: dict[str, Any], window: str) -> None:
    """The numbers as a spreadsheet, and the HTML report written on demand."""
    from sim.present.spreadsheet import workbook

    about = {
        "results folder": str(folder),
        "base": manifest.get("base"),
        "policies": ", ".join(manifest.get("policies") or []),
        "replications": manifest.get("replications"),
        "root seed": manifest.get("root_seed"),
        "period": window,
    }
    left, right = st.columns(2)
    try:
        data = workbook(comp, about)
    except ImportError:  # openpyxl is part of the 'app' extra
        left.caption("The .xlsx download needs openpyxl: pip install -e '.[app]'")
    else:
        left.download_button(
            t("xlsx"),
            data,
            file_name=f"{folder.name}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"xlsx-{folder.name}",
        )
    if right.button(t("write_report"), key=f"report-{folder.name}"):
        from sim.present.report import build_report

        with st.spinner("writing the report (figures and the map)"), panel("The report"):
            page, _ = build_report(folder)
            st.session_state[f"report-of-{folder.name}"] = str(page)
    written = st.session_state.get(f"report-of-{folder.name}")
    if written and Path(written).is_file():
        right.success(f"report written: {written}")
        right.download_button(
            t("download_report"),
            Path(written).read_bytes(),
            file_name=f"{folder.name}.html",
            mime="text/html",
            key=f"report-html-{folder.name}",
        )


def border_map(folder: Path, stamp: float, names: list[str]) -> None:
    """The map of the border (as ``bordersim animate`` draws it) with a slider through the days."""
    import io

    st.subheader(t("map"), anchor="map")
    scenario = st.radio(t("map_scenario"), names, horizontal=True, key=f"map-scenario-{folder.name}")
    try:
        all_frames, figure = _map_of(str(folder), stamp, scenario)
    except UserError as exc:
        for p in exc.problems:
            st.error(str(p))
        return
    dates = [f.when.date() for f in all_frames]
    day = st.select_slider(t("day"), options=dates, key=f"map-day-{folder.name}-{scenario}")
    frame = all_frames[dates.index(day)]
    figure.show(frame)
    buffer = io.BytesIO()
    figure.fig.savefig(buffer, format="png", dpi=style.DPI)
    drawn = [(g, d, c, v) for (g, d, c), v in frame.counts.items() if v == v and v >= 0.5]
    counts = ", ".join(f"{g} {d} {c.replace('_', ' ')} {v:.0f}" for g, d, c, v in drawn)
    alt = f"Map of the gates on {day:%d %b %Y} ({scenario}): trucks waiting, {counts or 'none'}"
    st.image(buffer.getvalue(), use_container_width=True, alt=alt)
    st.caption(
        "Bars: the mean over the replications at 12:00 of that day (the values of `bordersim backlog`); "
        "a grey gate is closed, a red one had a random stoppage in some replication. "
        f"`bordersim animate {folder}` writes the whole period as a GIF or MP4."
    )


def group_figure(
    folder: Path, stamp: float, group: tuple[str, str], gate_names: dict[str, str] | None = None
) -> None:
    """The clearance-time distribution of the gate and direction picked above (the figures below are
    of all gates): a one-gate lever's effect shows here."""
    try:
        png, alt = _group_png(str(folder), stamp, *group)
    except UserError as exc:
        for p in exc.problems:
            st.error(str(p))
        return
    st.image(png, caption=f"{group_label(group, gate_names)}: {alt}", use_container_width=True, alt=alt)


@st.fragment(run_every=1.0)
def drawing(folder: Path, status: str) -> None:
    """The figures as the job draws them, redrawn every second; the whole page redraws when it is done."""
    state = jobs.read_state(folder)
    if state is None or state.status != status:
        st.rerun()
    figures = jobs.figures(folder)
    st.progress(
        len(figures) / len(jobs.FIGURES), text=f"drawing figures: {len(figures)} of {len(jobs.FIGURES)}"
    )
    for fig in figures:
        st.image(fig["png"], caption=fig["caption"], use_container_width=True, alt=fig["title"])


@st.fragment(run_every=1.0)
def progress(folder: Path, status: str | None) -> None:
    """The progress bar of a running job with the time left, redrawn every second, and Cancel; the whole
    page redraws when the job moves on."""
    state = jobs.read_state(folder)
    if state is None:
        st.info("starting…")
        return
    if state.status != status:
        st.rerun()
    left = guide.time_left(state.fraction, state.seconds)
    done = state.done + state.running
    text = f"{state.status}: {done:.1f} of {state.total} replications · {state.seconds:.0f} s"
    st.progress(min(state.fraction, 1.0), text=text)
    st.markdown(t("time_left", left=guide.duration_text(left)) if left is not None else "Time left: timing…")
    if state.pid and st.button(t("cancel"), key=f"cancel-{folder.name}"):  # once the job has said who it is
        if not jobs.cancel(folder):
            st.warning("the run had already stopped")
        st.rerun()


def scenario_trucks(path: Path, overrides: tuple[str, ...]) -> float:
    """Expected trucks in one replication of a scenario file with the window's overrides (0 if it does
    not load: its problems are shown elsewhere)."""
    from sim.studies.run import expected_trucks

    try:
        return expected_trucks(load_scenario(path, overrides))
    except UserError:
        return 0.0


@st.cache_data(show_spinner=False, max_entries=16)
def _swing_sizes(
    files: tuple[str, ...], stamps: tuple[float, ...], overrides: tuple[str, ...]
) -> list[float]:
    """The swing runs' sizes of :func:`swing_trucks`, cached by the files' paths and versions."""
    from sim.studies.compare import swing_scenarios
    from sim.studies.run import expected_trucks

    try:
        return [expected_trucks(r.loaded) for r in swing_scenarios(files[0], files[1:], overrides)]
    except UserError:
        return []


def swing_trucks(base_file: Path, policy_files: list[Path], overrides: tuple[str, ...]) -> list[float]:
    """Expected trucks in one replication of each swing run ``compare --swing`` adds for these files
    (each policy at each end of each assumption of its own), by the same size estimate as the base's;
    none when a file does not load (its problems are shown elsewhere). Cached per version of the files."""
    files = (base_file, *policy_files)
    stamps = tuple(f.stat().st_mtime if f.is_file() else 0.0 for f in files)
    return _swing_sizes(tuple(map(str, files)), stamps, tuple(overrides))


def run_estimate(
    root: Path,
    base_file: Path,
    overrides: tuple[str, ...],
    replications: int,
    others: int = 0,
    what_if: bool = True,
    swing: Sequence[float] = (),
    plausible: int = 0,
) -> str:
    """How long Run will take: the run's size (the base and the policy, trucks a replication from the
    run-size estimate, dated arrivals included, times the replications; ``swing``: each swing run's
    trucks a replication; ``plausible``: input sets across plausible winters, each a run of every
    scenario at about the base's size) over this machine's speed, measured on the page's finished runs
    by the trucks they did simulate (never by their estimate: a wrong estimate would make every later
    one wrong too; runs that did not record it are left out)."""
    runs = 1 + int(what_if) + others  # the base, the what-if (when a lever changed), the saved policies
    sizes = [scenario_trucks(base_file, overrides)] * runs  # the saved policies: about the base
    sizes += sizes[:1] * plausible_runs(plausible, runs, 1)
    trucks = guide.expected_trucks([*sizes, *swing], max(replications, 0))
    done = [(state.trucks, state.seconds) for _, _, state in jobs.jobs(root) if state.status == jobs.DONE]
    speed = guide.measured_speed(done)
    who = ", ".join(
        [
            t("who_base"),
            *([t("who_policy")] if what_if else []),
            *([t("who_saved", n=others)] if others else []),
            *([t("who_swing", n=len(swing))] if swing else []),
            *([t("plausible_runs", runs=plausible_runs(plausible, runs, 1))] if plausible else []),
        ]
    )
    who = t("and").join(who.rsplit(", ", 1))
    size = t("size", trucks=f"{trucks:,.0f}", who=who, replications=replications)
    if speed is None:
        return t("untimed", size=size)
    seconds = trucks / speed.trucks_per_second
    return t(
        "estimate",
        duration=guide.duration_text(seconds),
        size=size,
        speed=f"{speed.trucks_per_second:,.0f}",
        runs=speed.runs,
    )


def relative_names(folder: Path, files: list[str]) -> list[str]:
    """Scenario files as the page lists them: relative to the scenarios folder (others left out)."""
    return [str(Path(f).relative_to(folder)) for f in files if Path(f).is_relative_to(folder)]


def job_form_key(args: argparse.Namespace, folder: Path) -> str | None:
    """What the form held when the what-if in ``folder`` was run (None: not a page run, or unreadable)."""
    from sim.app.levers import changed

    spec = jobs.read_spec(folder)
    if spec is None or not Path(spec.base_file).is_relative_to(args.scenarios):
        return None
    base_file = Path(spec.base_file)
    try:
        _, all_levers = base_levers(str(base_file), base_file.stat().st_mtime)
        data = jobs.policy_data(spec)
    except (UserError, OSError, yaml.YAMLError):
        return None
    by_key = {lv.key: lv for lv in all_levers}
    edits = {
        by_key[k].dotted: v for k, v in values_from_policy(all_levers, data).items() if changed(by_key[k], v)
    }
    base_name = str(base_file.relative_to(args.scenarios))
    others = relative_names(args.scenarios, spec.others)
    swing = {SWING: True} if spec.swing else {}
    swing |= {PLAUSIBLE: spec.plausible} if spec.plausible else {}
    return guide.form_key(
        base_name, spec.window, spec.replications, spec.seed, edits | {OTHERS: others} | swing
    )


def stale_mark(args: argparse.Namespace, folder: Path) -> None:
    """Say so when the form no longer asks for what the shown results ran."""
    ran = job_form_key(args, folder)
    if ran is not None and ran != st.session_state.get("form_key"):
        st.warning(
            "Stale: the form has changed since these results were run; they show the run as it was. "
            "Press Run for the new values.",
            icon="⏳",
        )


def show_job(folder: Path) -> None:
    """Show a what-if folder: progress while it runs, then the effect, the table and the figures."""
    spec, state = jobs.read_spec(folder), jobs.read_state(folder)
    st.header(t("results", name=folder.name))
    if spec is not None:
        st.caption(t("rerun", window=spec.window))
        st.code(spec.rerun, language="bash")
    if state is None or state.status in (jobs.QUEUED, jobs.RUNNING):
        progress(folder, state.status if state is not None else None)
        return
    if state.status == jobs.FAILED:
        for text in state.problems:
            st.error(text)
        return
    if state.status == jobs.DONE:
        st.success(t("done", seconds=f"{state.seconds:.0f}"))
        show_results(folder)
    else:  # the comparison is there; the figures are being drawn
        st.info(t("drawing", seconds=f"{state.seconds:.0f}"))
        show_results(folder, live=state.status)


# ---------------------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------------------
def current_values(
    all_levers: list[Lever], base_id: str
) -> tuple[dict[tuple[str, ...], Any], dict[str, list[str]]]:
    """The values the widgets hold now, and the problems of those that cannot be read."""
    values, problems = {}, {}
    for lever in all_levers:
        key = controls.widget_key(lever, base_id)
        if key not in st.session_state and key + controls.ROWS not in st.session_state:
            continue
        try:
            values[lever.key] = controls.parse(lever, controls.raw_value(lever, key))
        except (controls.Unreadable, TypeError, ValueError) as exc:
            problems.setdefault(lever.dotted, []).append(guide.lever_message(lever, str(exc)))
    return values, problems


def main() -> None:
    """Draw the page: base, window and levers on the left; the job's results on the right."""
    st.set_page_config(page_title="bordersim what-if", page_icon="🚚", layout="wide")
    args = options()
    switch(st.sidebar)  # English by default; Tiếng Việt for a Vietnamese page (remembered in the session)
    st.title(t("title"))
    st.markdown(t("purpose"))
    if lang() != "en":
        st.caption(t("english_inside"))
    st.html(
        f"<style>[data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] p "
        f"{{color: {guide.CAPTION_COLOUR} !important; opacity: 1 !important;}}</style>"
    )

    restore_from_job(args)
    files = scenario_files(args.scenarios)
    if not files:
        st.error(f"no scenario files under {args.scenarios}")
        return
    names = [str(f.relative_to(args.scenarios)) for f in files]
    side = st.sidebar
    state = st.session_state
    if state.get("base") not in names:
        state["base"] = DEFAULT_BASE if DEFAULT_BASE in names else names[0]
    base_name = side.selectbox(t("base"), names, key="base")
    base_file = args.scenarios / base_name
    try:
        loaded, all_levers = base_levers(str(base_file), base_file.stat().st_mtime)
    except UserError as exc:
        for p in exc.problems:
            side.error(str(p))
        return
    run = loaded.scenario.run
    choices = windows(run)
    labels = [w.label for w in choices]
    if state.get("window") not in labels:  # the first month by default: a what-if in seconds
        state["window"] = next((label for label in labels if label.startswith("month")), labels[0])
    window_label = side.selectbox(
        t("window"), labels, key="window", format_func=partial(window_words, lang=lang())
    )  # the language bound now: a format function may be called outside the script's run
    window = choices[labels.index(window_label)]
    state.setdefault("reps", COMPARE.replications.default)  # type: ignore[union-attr]
    state.setdefault("name", "what_if")
    if state.get("seed_of") != base_name:  # a new base: its own root seed
        state["seed"], state["seed_of"] = run.seed, base_name
    replications = int(
        side.number_input(
            t("replications"),
            step=1,
            key="reps",
            help=COMPARE.replications.help,  # type: ignore[union-attr]
        )
    )
    seed = int(side.number_input(t("seed"), step=1, key="seed"))
    name = side.text_input(t("policy_name"), key="name").strip()
    choices_others = [n for n in names if n != base_name]
    others = side.multiselect(
        t("others"),
        choices_others,
        key="others",
        format_func=policy_labels(choices_others).__getitem__,
        help=t("others_help"),
    )
    other_files = [args.scenarios / o for o in others]
    swing = side.checkbox(t("swing"), key="swing", help=t("swing_help"))
    swing_sizes = swing_trucks(base_file, other_files, window.overrides) if swing else []
    sets = plausible.control(side, loaded.scenario)  # issue 31: the robust study after the comparison

    base_id = base_name.replace("/", "_").removesuffix(".yaml")
    values, unreadable = current_values(all_levers, base_id)
    draft = Draft(base_file, name, f"What-if on {base_file.name} from the bordersim page", all_levers, values)
    by_lever: dict[str, list[str]] = {k: list(v) for k, v in unreadable.items()}
    general: list[str] = []
    if not unreadable:
        for p in validate(draft, scratch(), window.overrides):
            lever = lever_for(all_levers, p.path)
            text = guide.lever_message(lever, p.message, p.path)
            (by_lever.setdefault(lever.dotted, []) if lever else general).append(text)
    if replications < 2:
        general.append(
            f"--replications: must be at least 2 (a confidence interval needs two) (got {replications})"
        )
    if seed < 0:
        general.append(f"--seed: must be a non-negative integer (got {seed})")
    named = check_name(name)
    if named is not None:
        general.append(f"Policy name: {named.message[:200]}")
    for text in general:
        side.error(text, icon="⚠️")

    changes = draft.changes()
    side.caption(t("changed_count", n=len(changes)))
    ok = not by_lever and not general and bool(changes or others)
    st.session_state["form_key"] = guide.form_key(
        base_name,
        window.label,
        replications,
        seed,
        {lv.dotted: v for lv, v in changes}
        | {OTHERS: others}
        | ({SWING: True} if swing else {})
        | ({PLAUSIBLE: sets} if sets else {}),
    )
    run_bar = st.container()  # in the page, not the sidebar: reachable at phone width too
    if not changes:  # the what-if would be the base itself: a duplicate column, or nothing to run
        run_bar.info(nothing_changed_text(others, lang()))
    what_if = 1 if changes else 0  # the what-if's own policy, beside the base and the saved policies
    run_bar.caption(
        run_estimate(
            args.results_root,
            base_file,
            window.overrides,
            replications,
            len(others),
            bool(what_if),
            swing_sizes,
            sets,
        )
    )
    if run_bar.button(t("run"), type="primary", disabled=not ok, key="run"):
        folder = whatif_folder(args.results_root, name)
        policy_file = folder / f"{name}.yaml" if changes else None
        rerun = rerun_command(
            base_file, policy_file, window.overrides, replications, seed, other_files, swing
        )
        try:
            if policy_file is not None:
                write_policy(draft, policy_file, window.overrides, rerun)
            else:
                folder.mkdir(parents=True, exist_ok=True)
        except UserError as exc:
            for p in exc.problems:
                side.error(problem_text(p))
        else:
            written = [*([policy_file] if policy_file is not None else []), *other_files]
            ran_swings = swing_trucks(base_file, written, window.overrides) if swing else []
            spec = jobs.JobSpec(
                str(base_file),
                str(policy_file or ""),
                name,
                window.label,
                list(window.overrides),
                replications,
                seed,
                str(args.results_root),
                rerun,
                guide.expected_trucks(
                    [
                        *(
                            scenario_trucks(f, window.overrides)
                            for f in (base_file, *[base_file] * what_if, *other_files)
                        ),
                        *ran_swings,
                        *[scenario_trucks(base_file, window.overrides)]
                        * plausible_runs(sets, 1 + what_if + len(other_files), 1),
                    ],
                    replications,
                ),
                [str(f) for f in other_files],
                swing,
                sets,
            )
            jobs.start(folder, spec)
            st.query_params["job"] = folder.name
            st.rerun()

    save_policy(side, draft, base_file, window.overrides, replications, seed, ok)
    reopen(side, args.results_root)

    job = st.query_params.get("job")
    if job is None:  # no run named in the address: show one still running, if any
        running = [f for f, _, s in jobs.jobs(args.results_root) if s.active]
        job = running[0].name if running else None
    problem = guide.job_problem(job) if job is not None else None
    if problem is not None:
        st.error(problem, icon="⚠️")
    elif job is not None and (args.results_root / job).is_dir():
        with panel("The run"):
            stale_mark(args, args.results_root / job)
            show_job(args.results_root / job)
        st.divider()
    elif job is not None:
        st.error(f"no run named '{job}' under {args.results_root}; pick one under Reopen results", icon="⚠️")

    with panel("The saved runs"):
        saved_runs_browser(args)
    with panel("The forecast"):
        forecast_panel.render(base_file, args.scenarios, args.results_root, scratch())  # issue 21's panel
    with panel("Today"):
        today_panel.render(base_file, loaded.scenario, args.results_root, scratch())  # issue 30's panel
    with panel("Any study"):
        study_panel.render(args.scenarios, args.results_root)  # every registered study, its form generated
    st.header(t("levers"))
    st.caption(
        t(
            "levers_caption",
            file=base_file.name,
            about=loaded.scenario.description.strip() or loaded.scenario.name,
        )
    )
    groups: dict[str, list[Lever]] = {}
    for lever in all_levers:
        groups.setdefault(lever.group, []).append(lever)
    for group, members in groups.items():
        bad = any(lv.dotted in by_lever for lv in members)
        edited = sum(1 for lv, _ in changes if lv.group == group)
        title = (
            group_words(group, lang())
            + (f" · {t('changed_in_group', n=edited)}" if edited else "")
            + (" · ⚠️" if bad else "")
        )
        with st.expander(title, expanded=bad, key=f"group-{base_id}-{group}"):
            cols = st.columns(3)
            for i, lever in enumerate(members):
                with cols[i % 3]:
                    controls.render(
                        lever, controls.widget_key(lever, base_id), by_lever.get(lever.dotted, [])
                    )


def saved_runs_browser(args: argparse.Namespace) -> None:
    """Every what-if run from this page: when, base, period, levers changed and headline effect; any
    can be reopened."""
    from sim.app.runs import saved_runs

    def levers_of(base_file: str) -> list[Lever]:
        path = Path(base_file)
        return base_levers(str(path), path.stat().st_mtime)[1]

    table = saved_runs(args.results_root, levers_of)
    if table.empty:
        return
    with st.expander(t("saved_runs", n=len(table)), key="saved-runs"):
        shown = table.rename(columns={c: t(f"col_{c}") for c in table.columns})  # headers in the page's words
        st.dataframe(shown, hide_index=True, use_container_width=True)
        pick = st.selectbox(t("run_to_open"), list(table["run"]), key="saved-pick")
        if st.button(t("open_run"), key="saved-open"):
            st.query_params["job"] = pick
            st.session_state.pop("restored", None)  # fill the form with what it ran
            st.rerun()


def restore_from_job(args: argparse.Namespace) -> None:
    """A fresh session (a reload, a shared link) opened on a what-if: fill the form with what it ran."""
    job = st.query_params.get("job")
    if "restored" in st.session_state or job is None or guide.job_problem(job) is not None:
        return
    st.session_state["restored"] = True
    spec = jobs.read_spec(args.results_root / job)
    if spec is None:
        return
    base_file = Path(spec.base_file)
    if not base_file.is_relative_to(args.scenarios) or not base_file.is_file():
        return
    base_name = str(base_file.relative_to(args.scenarios))
    try:
        _, all_levers = base_levers(str(base_file), base_file.stat().st_mtime)
        data = jobs.policy_data(spec)
    except (UserError, OSError, yaml.YAMLError):
        return
    base_id = base_name.replace("/", "_").removesuffix(".yaml")
    st.session_state.update(
        base=base_name, window=spec.window, reps=spec.replications, seed=spec.seed, name=spec.name
    )
    st.session_state["others"] = relative_names(args.scenarios, spec.others)
    st.session_state["swing"] = spec.swing
    st.session_state["plausible"] = bool(spec.plausible)
    if spec.plausible:
        st.session_state["plausible_sets"] = spec.plausible
    for lever in all_levers:
        controls.set_value(lever, controls.widget_key(lever, base_id), lever.base)
    for key, value in values_from_policy(all_levers, data).items():
        lever = next(lv for lv in all_levers if lv.key == key)
        controls.set_value(lever, controls.widget_key(lever, base_id), value)


def save_policy(
    side: Any,
    draft: Draft,
    base_file: Path,
    overrides: tuple[str, ...],
    replications: int,
    seed: int,
    ok: bool,
) -> None:
    """Write the what-if as a policy file next to the base (``extends`` it), and offer it as a download."""
    side.divider()
    target = base_file.parent / f"{draft.name}.yaml"
    rerun = rerun_command(base_file, target, overrides, replications, seed)
    named_ok = check_name(draft.name) is None
    exists = named_ok and target.exists()  # a bad name is never a path (a 300-character name raises)
    overwrite = side.checkbox(t("overwrite", name=target.name), key="overwrite") if exists else True
    if side.button(
        t("save"), disabled=not (ok and named_ok and overwrite), key="save", use_container_width=True
    ):
        try:
            write_policy(draft, target, overrides, rerun)
        except UserError as exc:
            for p in exc.problems:
                side.error(problem_text(p))
        else:
            side.success(f"saved {target}")
            side.code(rerun, language="bash")
    side.download_button(
        t("download_policy"),
        policy_text(draft, target, rerun) if ok and named_ok else "",
        file_name=target.name if named_ok else "policy.yaml",
        mime="application/x-yaml",
        key="download",
        disabled=not (ok and named_ok),
        use_container_width=True,
    )
    if not ok:
        side.caption(t("save_wait"))


def reopen(side: Any, root: Path) -> None:
    """Reopen a comparison (a what-if or a ``bordersim compare``) from the results folder."""
    side.divider()
    folders = [f.name for f in comparison_folders(root)]
    running = [f.name for f, _, s in jobs.jobs(root) if s.active]
    listed = list(dict.fromkeys([*running, *folders]))
    if not listed:
        return
    pick = side.selectbox(t("reopen"), ["—", *listed], key="reopen")
    if pick != "—" and side.button(t("open"), key="open"):
        st.query_params["job"] = pick
        st.rerun()


main()
