"""The what-if job: ``python -m sim.app.background FOLDER`` runs one what-if folder's comparison.

It runs the policy against the base through :func:`sim.studies.compare.compare_policies` (common random
numbers, the runner's process pool, base replications reused when already run; with the spec's
``swing``, each policy's swing runs after it; with ``plausible``, the robust study over that many input
sets after those, :mod:`sim.app.plausible`; each counted in the progress from the start), writing its
progress to the folder's state file, then draws the clearance-time and backlog figures into
``FOLDER/plots``. Every outcome ends up in the state file: done, or failed with the same messages the
command line prints.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from sim.app import plausible
from sim.app.jobs import (
    DONE,
    FAILED,
    FIGURE_LIST,
    FIGURES,
    FIGURES_STEP,
    PLOTS,
    RUNNING,
    JobState,
    StateMonitor,
    policies,
    read_spec,
    write_state,
)
from sim.errors import UserError
from sim.studies.folders import write_json_atomic


def draw_figures(folder: Path) -> None:
    """Draw the what-if's figures into ``folder/plots`` one kind at a time, listing each (title, caption)
    as soon as it is written, so the page shows the first while the next is drawn."""
    from sim.present.plots import plot_study
    from sim.studies.folders import load_study

    study = load_study(folder)
    listed: list[dict[str, str]] = []
    for kind in FIGURES:
        for w in plot_study(study, Path(folder) / PLOTS, [kind]):
            listed.append({"png": w.png.name, "title": w.title, "caption": w.caption})
        write_json_atomic(Path(folder) / PLOTS / FIGURE_LIST, listed)


def run_job(folder: Path) -> int:
    """Run the job in ``folder``; returns the exit code the command line would (0, 1 or 2)."""
    from sim.studies.compare import compare_policies, swing_scenarios
    from sim.studies.options import StudyOptions

    folder = Path(folder)
    spec = read_spec(folder)
    if spec is None:
        print(f"{folder}: no readable what-if spec", file=sys.stderr)
        return 2
    state = JobState(status=RUNNING, pid=os.getpid(), started=time.time())
    write_state(folder, state)
    try:
        files = policies(spec)
        swung = swing_scenarios(spec.base_file, files, spec.overrides) if spec.swing else []
        later = plausible.runs(spec.plausible, 1 + len(files), spec.replications)
        monitor = StateMonitor(folder, state, later=len(swung) * spec.replications + later)
        options = StudyOptions(
            overrides=tuple(spec.overrides),
            replications=spec.replications,
            seed=spec.seed,
            out=folder,
            root=Path(spec.results_root),
            monitor=monitor,
            argv=tuple(spec.rerun.split()),
        )
        result = compare_policies(spec.base_file, files, options, swing=spec.swing)
        if result.failures:
            state.problems = [
                f"replication {f.replication} of {f.scenario} failed (root seed {f.root_seed}, {f.seed}): "
                f"{f.error}"
                for f in result.failures
            ] + [result.resume_hint]
            state.status = FAILED
            return 1
        state.record_trucks(sum(exp.trucks() for exp in [*result.experiments, *result.swing_experiments]))
        if spec.plausible:
            robust = plausible.run(spec, files, folder, monitor)
            if robust.failures:
                state.problems = [f"{len(robust.failures)} robust run(s) failed", robust.resume_hint]
                state.status = FAILED
                return 1
            state.trucks = 0.0  # its input sets' trucks are not counted: left out of the page's speed
        state.status = FIGURES_STEP
        write_state(folder, state)
        draw_figures(folder)
        state.status = DONE
        return 0
    except UserError as exc:
        state.status, state.problems = FAILED, [str(p) for p in exc.problems]
        return 2
    except Exception as exc:  # shown on the page; the traceback goes to the job's log
        traceback.print_exc()
        state.status, state.problems = FAILED, [f"{type(exc).__name__}: {exc}"]
        return 1
    finally:
        state.finished = time.time()
        write_state(folder, state)


def main(argv: list[str] | None = None) -> int:
    """Run the what-if job of one folder (``python -m sim.app.background FOLDER``): compare, then figures."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sim.app.background WHATIF_FOLDER", file=sys.stderr)
        return 2
    return run_job(Path(args[0]))


if __name__ == "__main__":
    sys.exit(main())
