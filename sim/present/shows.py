"""What the terminal prints after a study: its result, where it is, and what to do next.

:func:`show` picks the printer of the study that ran (by the study's name, or by the kind of result for a
study with several answers); a study without one gets :func:`show_summary`, its summary table. Every
printer returns the command's exit code: 0 done, 1 when replications failed (the finished ones kept).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.groups import ALL
from sim.present import terminal
from sim.present.assimilate_text import show_assimilate
from sim.present.robust_text import show_robust

EXIT_FAILED = 1


@dataclass(frozen=True)
class Request:
    """What the user asked for: the study, its source, the settings given, the output format, the
    ``--set`` values and the command as typed (for hints)."""

    study: str
    source: Path
    settings: dict[str, Any]
    fmt: str = "table"
    overrides: tuple[str, ...] = ()
    argv: tuple[str, ...] = ()


def show(result: Any, request: Request) -> int:
    """Print ``result`` as its study's printer does; the exit code."""
    failures = getattr(result, "failures", None)
    if failures:
        experiments = getattr(result, "experiments", None) or (
            [result.experiment] if getattr(result, "experiment", None) is not None else []
        )
        hint = (
            getattr(result, "resume_hint", "") or "Run the same command again to run only the missing ones."
        )
        terminal.report_failures(failures, experiments, hint)
        return EXIT_FAILED
    printer = PRINTERS.get(type(result).__name__) or PRINTERS.get(request.study, show_summary)
    return printer(result, request)


def show_summary(result: Any, request: Request) -> int:
    """A study without its own printer: its summary table and its folder."""
    summary = getattr(result, "summary", None)
    if summary is not None:
        terminal.print_saved_table(summary, request.study, fmt=request.fmt)
    folder = getattr(result, "folder", None)
    if folder is not None:
        terminal.say(f"results in {folder}", err=True)
    return 0


def show_run(result: Any, request: Request) -> int:
    """A run's summary, what its clearance times cover, and what to do next."""
    terminal.print_run_summary(result.summary, result.scenario.name, result.replications, request.fmt)
    terminal.say(f"{result.trucks:,} trucks simulated; results in {result.folder}", err=True)
    say_what_clearance_covers(result.summary)
    say_never_released(None, result.scenario)
    # the run's --set values too: without them the comparison would be of another scenario
    sets = [w for o in request.overrides for w in ("--set", o)]
    terminal.hint(
        [
            f"draw figures: bordersim plot {result.folder}",
            f"report: bordersim report {result.folder}",
            "compare with a policy: bordersim compare "
            + shlex.join([str(request.source), "POLICY.yaml", *sets])
            + " (a policy file says 'extends: <this scenario>' and changes a few keys)",
        ]
    )
    return 0


def say_what_clearance_covers(summary: Any) -> None:
    """Clearance statistics describe cleared trucks only: say so, and warn when many are still inside
    at the horizon or held upstream (a backlog growing without bound makes those statistics depend on the
    horizon; trucks held for good never reach the gate at all)."""
    from sim.analysis.stability import INSIDE_SHARE_LIMIT, inside_shares, unstable_flows

    shares = inside_shares(summary)
    province = shares[(shares["gate"] == ALL) & (shares["direction"] == ALL)]
    if not province.empty and province["still_inside"].iloc[0] > 0:
        inside, arrived = province["still_inside"].iloc[0], province["arrived"].iloc[0]
        terminal.note(
            f"clearance times cover cleared trucks only; {inside:,.0f} trucks a replication "
            f"({inside / arrived:.1%}) were still inside at the horizon"
        )
    flagged = unstable_flows(summary)
    flagged = flagged[(flagged["gate"] != ALL) & (flagged["direction"] != ALL)]
    if flagged.empty:
        return
    where = ", ".join(
        f"{g} {d} ({s:.0%})"
        for g, d, s in zip(flagged["gate"], flagged["direction"], flagged["still_inside_share"], strict=True)
    )
    held = " or still held upstream" if (flagged["trucks_held_upstream"] > 0).any() else ""
    terminal.warning(
        f"more than {INSIDE_SHARE_LIMIT:.0%} of the trucks were still inside at the horizon{held} at: "
        f"{where}. Either the horizon is short next to the clearance times, or arrivals exceed what these "
        "gates clear (or release) and the backlog grows without bound; either way the clearance statistics "
        "(of the trucks that did clear) depend on the horizon. See 'unstable' in summary.csv"
    )


def say_never_released(name: str | None, scenario: Any) -> None:
    """Warn of upstream holding that releases nobody to the end of the run: the gate's summary alone
    would read as if no trucks came."""
    from sim.present.upstream_text import never_released_lines
    from sim.scenario.upstream_check import never_released

    for line in never_released_lines(never_released(scenario), name):
        terminal.warning(line)


def show_compare(result: Any, request: Request) -> int:
    """The decision summary, the paired differences, and where the tables are."""
    from sim.present.decision_text import print_decision
    from sim.store.layout import COMPARISON, COMPARISON_MARKDOWN

    for text in result.notes:
        terminal.note(text)
    for exp in result.experiments:
        say_never_released(exp.scenario.name, exp.scenario)
    if result.precision is not None:
        p = result.precision
        how = "met" if p["met"] else f"NOT met within --max-replications {p['max_replications']}"
        batches = ", ".join(str(b["replications"]) for b in p["batches"])
        terminal.say(
            f"precision target {p['target']:g} on the {p['of']} of {p['objective']}: {how} after "
            f"{p['replications']} replications (batches: {batches})",
            err=True,
        )
    if request.fmt == "table":  # other formats print the tidy table only (the sentences are in comparison.md)
        print_decision(result.decision)
    terminal.print_comparison(result.table, result.names, result.replications, result.root_seed, request.fmt)
    terminal.say(
        f"per gate and direction: {result.folder / COMPARISON_MARKDOWN} and {result.folder / COMPARISON}",
        err=True,
    )
    terminal.hint(
        [
            f"draw figures: bordersim plot {result.folder}",
            f"report: bordersim report {result.folder}",
            f"print this again: bordersim summary {result.folder}",
        ]
    )
    return 0


def show_sweep(result: Any, request: Request) -> int:
    """One row per point of the grid, and where the tables are."""
    from sim.store.layout import SWEEP_PARQUET, SWEEP_SUMMARY

    keys = [a.key for a in result.axes]
    terminal.print_sweep(result.summary, keys, result.scenario, result.replications, request.fmt)
    terminal.say(
        f"tidy table: {result.folder / SWEEP_PARQUET} (and .csv); summary: {result.folder / SWEEP_SUMMARY}",
        err=True,
    )
    return 0


def show_calibration(result: Any, request: Request) -> int:
    """What was fitted (or the scale found), and the calibrated file."""
    from sim.present.calibration_text import print_calibration

    print_calibration(result)
    return 0


def show_history(result: Any, request: Request) -> int:
    """Reported against simulated figures, a table per scenario."""
    from sim.store.layout import HISTORY_MARKDOWN, HISTORY_TABLE

    if request.fmt in ("csv", "json"):  # one table of data, with a scenario column
        terminal.print_history(result.table, "", request.fmt)
    for scenario, reps, df in result.tables if request.fmt not in ("csv", "json") else []:
        title = f"{scenario.name}: reported vs simulated ({reps} replications, 95% CI)"
        terminal.print_history(df, title, request.fmt)
    terminal.say(f"wrote {result.folder / HISTORY_TABLE} and {HISTORY_MARKDOWN}", err=True)
    return 0


def show_observed(result: Any, request: Request) -> int:
    """A scenario's runs against the user's counts: the table, its summary error, the backlog figure."""
    from sim.present.plots.study_figures import observed_figures
    from sim.store.layout import OBSERVED_MARKDOWN, OBSERVED_TABLE

    for text in result.notes or []:
        terminal.note(text)
    terminal.print_observed(result.table, result.error.as_dict(), result.title, request.fmt)
    if request.fmt in ("csv", "json"):  # the summary error is not part of the tidy rows: say it beside them
        e = result.error
        terminal.say(
            f"RMS of ln(simulated / observed) {e.rms_log_ratio:.3f} over {e.compared} observations; "
            f"{e.inside} of {e.observations} inside the simulated mean's 95% interval, "
            f"{e.inside_prediction} inside the 95% prediction interval of one day",
            err=True,
        )
    figures = observed_figures(result.folder, result.run, result.observed, result.at_hour)
    terminal.say(
        f"wrote {result.folder / OBSERVED_TABLE}, {OBSERVED_MARKDOWN} and "
        + ", ".join(str(f) for w in figures for f in w.files)
        + f" (replications in {result.run.folder})",
        err=True,
    )
    return 0


def show_observed_band(result: Any, request: Request) -> int:
    """The user's counts against an uncertainty study's band."""
    from sim.present.uncertainty_text import print_observed_band
    from sim.store.layout import OBSERVED_TABLE

    print_observed_band(result, request.fmt)
    terminal.say(f"wrote {result.folder / OBSERVED_TABLE}", err=True)
    return 0


def show_forecast(result: Any, request: Request) -> int:
    """The forecast's outcomes and decision, and its fan."""
    from sim.present.forecast_text import print_forecast
    from sim.present.plots.forecast import plot_forecast

    print_forecast(result, request.fmt)
    figures = plot_forecast(result.folder, result.direction)
    terminal.hint(
        [
            f"forecast written to {result.folder} (forecast.csv, forecast_daily.csv, state.csv)",
            f"the fan: {figures[0]}",
        ]
    )
    return 0


def show_uncertainty(result: Any, request: Request) -> int:
    """The band and its drivers; the figures drawn into the folder's plots."""
    from sim.present.plots import PLOTS_DIR
    from sim.present.plots.uncertainty import uncertainty_figures
    from sim.present.uncertainty_text import print_uncertainty

    print_uncertainty(result, request.fmt)
    drawn = [w.png for w in uncertainty_figures(result.folder, result.folder / PLOTS_DIR, str(result.folder))]
    terminal.detail(f"figures: {', '.join(str(p) for p in drawn)}")
    return 0


def show_optimise(result: Any, request: Request) -> int:
    """The cheapest configuration that meets the target, and the points evaluated."""
    from sim.present.decision_text import print_optimise

    print_optimise(result)
    return 0


def show_sensitivity(result: Any, request: Request) -> int:
    """The assumptions ranked, and the tornado chart."""
    from sim.present.decision_text import print_sensitivity
    from sim.present.plots.study_figures import sensitivity_figures

    print_sensitivity(result, sensitivity_figures(result.folder)[0].png)
    return 0


PRINTERS: dict[str, Callable[[Any, Request], int]] = {
    "run": show_run,
    "compare": show_compare,
    "sweep": show_sweep,
    "calibrate": show_calibration,
    "HistoryResult": show_history,
    "ObservedResult": show_observed,
    "ObservedBand": show_observed_band,
    "forecast": show_forecast,
    "uncertainty": show_uncertainty,
    "optimise": show_optimise,
    "sensitivity": show_sensitivity,
    "robust": show_robust,
    "assimilate": show_assimilate,
}
"""The printers by study name, or by result class for a study with several kinds of answer."""
