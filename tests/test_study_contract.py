"""The study contract: one options object, the store as the only writer, the whole API, scripts that work.

- every command that takes ``--label`` refuses one that would leave the results root, and writes nothing;
- no results-folder path is built outside ``sim/store/`` (read from the source);
- every study of the API runs from a script without a main guard, and from ``python -`` (subprocesses:
  the workers' start-up is what used to fail);
- no study lists the shared options again: each takes ``(source, options, ...)``.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import ROOT, SCENARIOS

MINIMAL = SCENARIOS / "lang_son_minimal.yaml"
MMC = SCENARIOS / "examples" / "mmc.yaml"
SHORT = ["--set", "run.horizon=48", "--set", "run.warmup=0"]
TRAVERSING = ["../../../../outside", "/tmp/absolute", "..", "a/b"]

# command, its arguments before --label (each needs a scenario and whatever else it requires)
LABELLED = {
    "run": ["run", str(MINIMAL), *SHORT, "--replications", "2"],
    "sweep": ["sweep", str(MINIMAL), *SHORT, "--replications", "2", "--grid", "run.warmup=0,1"],
    "optimise": [
        "optimise",
        str(MMC),
        "--set",
        "run.horizon=150",
        "--set",
        "run.warmup=10",
        "--var",
        "gates.gate.export.stages.service.servers=2..3",
        "--target",
        "mean_wait_h<=10",
        "--replications",
        "2",
        "--final-replications",
        "2",
    ],
    "sensitivity": ["sensitivity", str(MINIMAL), *SHORT, "--replications", "2", "--only", "customs"],
    "uncertainty": [
        "uncertainty",
        str(ROOT / "tests" / "data" / "uncertain_mmc.yaml"),
        "--samples",
        "2",
        "--replications",
        "2",
    ],
    "robust": [
        "robust",
        str(ROOT / "tests" / "data" / "uncertain_mmc.yaml"),
        str(ROOT / "tests" / "data" / "uncertain_mmc.yaml"),
        "--samples",
        "4",
        "--replications",
        "1",
    ],
    "assimilate": [
        "assimilate",
        str(ROOT / "data" / "twins" / "mm1_twin.yaml"),
        "--observed",
        str(ROOT / "data" / "twins" / "mm1_observed.csv"),
        "--particles",
        "4",
        "--days",
        "1",
    ],
    "forecast": [
        "forecast",
        str(MINIMAL),
        "--state",
        str(ROOT / "tests" / "data" / "state_minimal.csv"),
        "--start",
        "2021-06-10T12:00",
        "--days",
        "1",
        "--replications",
        "2",
    ],
}


def _labelled_commands() -> list[str]:
    """Every sub-command whose parser has a --label option (read from the parser itself)."""
    import argparse

    from sim.cli import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(
        name
        for name, sub in subs.choices.items()
        if any("--label" in a.option_strings for a in sub._actions)
    )


def test_every_command_with_a_label_is_tried() -> None:
    assert _labelled_commands() == sorted(LABELLED)


@pytest.mark.parametrize("command", sorted(LABELLED))
@pytest.mark.parametrize("label", TRAVERSING)
def test_a_traversing_label_is_refused_and_nothing_is_written(
    command: str, label: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "deep" / "er" / "results"
    before = sorted(p for p in tmp_path.rglob("*"))
    code = main([*LABELLED[command], "--results-root", str(root), "--label", label, "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--label" in err and "Traceback" not in err
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert not Path("/tmp/absolute").exists() or label != "/tmp/absolute"


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_no_results_path_is_built_outside_the_store() -> None:
    """Folder names of results (runs, studies, their files) are the store's: no other module joins a
    study file's name onto a folder."""
    from sim.store import layout

    names = {
        v for k, v in vars(layout).items() if k.isupper() and isinstance(v, str) and "." in v
    } - {layout.SCENARIO_FILE}
    offenders = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        if path.parts[-2] == "store":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in names:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not offenders, offenders


def test_no_study_lists_the_shared_options_again() -> None:
    from sim.studies import calibration, compare, history, optimise, robust, run, sensitivity, sweep
    from sim.studies.options import StudyOptions

    shared = set(StudyOptions.__dataclass_fields__) - {"force"}
    studies = [
        run.run_scenario,
        compare.compare_policies,
        sweep.run_sweep,
        calibration.calibrate_scenario,
        history.validate_history,
        history.validate_observed,
        optimise.optimise,
        sensitivity.sensitivity,
        robust.robust,
    ]
    for study in studies:
        params = inspect.signature(study).parameters
        assert "options" in params, study.__qualname__
        assert not shared & set(params), (study.__qualname__, shared & set(params))


SCRIPT = textwrap.dedent(
    """
    import sim
    root = {root!r}
    short = ["run.horizon=48", "run.warmup=0"]
    mmc_short = ["run.horizon=150", "run.warmup=10"]
    r = sim.run({minimal!r}, replications=2, overrides=short, jobs=2, root=root, label="s")
    c = sim.compare({minimal!r}, {minimal!r}, replications=2, overrides=short, jobs=2, root=root)
    w = sim.sweep({minimal!r}, {{"run.warmup": [0, 1]}}, replications=2, overrides=short, jobs=2, root=root)
    b = sim.backlog(r.folder)
    s = sim.sensitivity({minimal!r}, only=["customs"], replications=2, overrides=short, jobs=2, root=root)
    o = sim.optimise({mmc!r}, ["gates.gate.export.stages.service.servers=2..3"], "mean_wait_h<=10",
                     final_replications=2, replications=2, overrides=mmc_short, jobs=2, root=root)
    rows = r.summary[(r.summary["gate"] == "all") & (r.summary["direction"] == "all")]
    value = float(rows.loc[rows["metric"] == "cleared_value_usd", "mean"].iloc[0])
    k = sim.calibrate({minimal!r}, target_usd=value * 1.05, tolerance=0.5, scale_only=True, replications=2,
                      overrides=short, jobs=2, out={calibrated!r})
    u = sim.uncertainty({uncertain!r}, samples=2, replications=2, jobs=2, root=root)
    q = sim.robust({uncertain!r}, [{uncertain!r}], samples=4, replications=1, jobs=2, root=root)
    f = sim.forecast({minimal!r}, state={state!r}, start="2021-06-02T12:00", days=1, replications=2,
                     overrides=short, jobs=2, root=root)
    observed = {observed!r}
    with open(observed, "w") as fh:
        fh.write("date,gate,direction,value\\n2021-06-02,all,all,10\\n")
    h = sim.validate_history({minimal!r}, observed=observed, replications=2, overrides=short, jobs=2,
                             root=root)
    for x in (r, c, w, b, s, o, k, u, q, f, h):
        assert len(x.summary) > 0 and x._repr_html_()
    print("ALL STUDIES RAN", len(s.plot()))
    """
)


def _script(tmp_path: Path) -> str:
    return SCRIPT.format(
        root=str(tmp_path / "results"),
        minimal=str(MINIMAL),
        mmc=str(MMC),
        calibrated=str(tmp_path / "calibrated.yaml"),
        uncertain=str(ROOT / "tests" / "data" / "uncertain_mmc.yaml"),
        state=str(ROOT / "tests" / "data" / "state_minimal.csv"),
        observed=str(tmp_path / "observed.csv"),
    )


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_every_study_runs_from_a_script_without_a_main_guard(tmp_path: Path) -> None:
    script = tmp_path / "first_script.py"
    script.write_text(_script(tmp_path), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ALL STUDIES RAN 2" in done.stdout  # the tornado chart as PNG and SVG
    assert "out of memory" not in done.stderr


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_study_runs_from_standard_input(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sim
        r = sim.run({str(MINIMAL)!r}, replications=2, overrides=["run.horizon=72"], jobs=2,
                    root={str(tmp_path / "results")!r})
        print("RAN", r.replications)
        """
    )
    done = subprocess.run(
        [sys.executable, "-"], input=code, capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RAN 2" in done.stdout
