"""The terminal: every table readable at 80 columns with no number cut, --format, list, summary, hints,
--quiet/--verbose, escaped markup, "not modelled" and one-replication tables, and a light --version."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from sim.analysis.metrics import metric_info
from sim.cli import main
from sim.groups import ALL
from sim.present import terminal
from tests.conftest import ROOT, SCENARIOS

MINIMAL = str(SCENARIOS / "lang_son_minimal.yaml")
SHORT = ["--set", "run.horizon=72", "--set", "run.warmup=12", "--jobs", "2"]
GROUPS = [
    ("huu_nghi", "export"),
    ("huu_nghi", "import"),
    ("huu_nghi", ALL),
    ("tan_thanh", "export"),
    ("tan_thanh", ALL),
    (ALL, "export"),
    (ALL, "import"),
    (ALL, ALL),
]
METRICS = [m for m, _ in terminal.RUN_COLUMNS] + ["mean_wait_h", "value_lost_usd"]


def year_scale_summary(seed: int = 0, n: int = 10) -> pd.DataFrame:
    """A summary with the widest numbers a calibrated year gives (hundreds of thousands of trucks,
    thousands of millions of USD), so that the 80-column check is made on the hard case."""
    rng = np.random.default_rng(seed)
    rows = []
    for gate, direction in GROUPS:
        for metric in METRICS:
            if metric == "peak_backlog" and direction != ALL:
                continue
            mean = (
                float(rng.uniform(1e5, 9.9e5))
                if metric != "cleared_value_usd"
                else float(rng.uniform(1e9, 9e9))
            )
            rows.append(
                {
                    "gate": gate,
                    "direction": direction,
                    "metric": metric,
                    "n": n,
                    "mean": mean,
                    "sd": mean / 50,
                    "half_width": mean / 37,
                }
            )
    return pd.DataFrame(rows)


def rendered(draw) -> str:
    console = Console(width=80, record=True, file=io.StringIO())
    draw(console)
    return console.export_text()


def numbers(summary: pd.DataFrame) -> list[str]:
    """Every number the summary's tables print, formatted as printed."""
    out = []
    for _, r in summary.iterrows():
        fmt = metric_info(r["metric"]).format
        out += [fmt(r["mean"]), fmt(r["half_width"])]
    return out


def assert_whole(text: str, expected: list[str]) -> None:
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    missing = [x for x in expected if x not in text]
    assert not missing, f"cut or missing at 80 columns: {missing[:5]}"


def test_run_summary_fits_80_columns_with_every_number_whole() -> None:
    summary = year_scale_summary()
    text = rendered(lambda c: terminal.print_run_summary(summary, "base_2021_calibrated", 10, console=c))
    shown = summary[summary["metric"].isin([m for m, _ in terminal.RUN_COLUMNS])]
    assert_whole(text, numbers(shown))
    wide = Console(width=250, record=True, file=io.StringIO())
    terminal.print_run_summary(summary, "base_2021_calibrated", 10, console=wide)
    assert "dir." in wide.export_text()  # the wide table when it fits
    assert "dir." not in text


def comparison_frame(names: list[str]) -> pd.DataFrame:
    frames = []
    for k, name in enumerate(names):
        s = year_scale_summary(seed=k).assign(scenario=name, role="base" if k == 0 else "policy")
        if k:
            s = s.assign(
                diff=-s["mean"] / 9, diff_half_width=s["mean"] / 80, diff_pct=-11.1, significant=True
            )
        frames.append(s)
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("policies", [1, 3])
def test_comparison_fits_80_columns_with_every_number_whole(policies: int) -> None:
    names = ["base_2021_calibrated", "digital_declaration", "green_lane_fruit", "extended_hours_23h"]
    comp = comparison_frame(names[: 1 + policies])
    text = rendered(lambda c: terminal.print_comparison(comp, names[: 1 + policies], 10, 2021, console=c))
    overall = comp[(comp["gate"] == ALL) & (comp["direction"] == ALL)]
    expected = numbers(overall)
    for _, r in overall[overall["role"] == "policy"].iterrows():
        fmt = metric_info(r["metric"]).format
        expected += [fmt(r["diff"]), fmt(r["diff_half_width"]), "(-11.1%) *"]
    assert_whole(text, expected)


def test_sweep_history_and_list_fit_80_columns() -> None:
    summary = pd.concat(
        [
            year_scale_summary(seed=p).assign(
                point=p, **{"gates.huu_nghi.import.stages.customs.servers": 9 + p}
            )
            for p in range(3)
        ],
        ignore_index=True,
    )
    key = "gates.huu_nghi.import.stages.customs.servers"
    text = rendered(lambda c: terminal.print_sweep(summary, [key], "lang_son_minimal", [5, 5, 5], console=c))
    shown = summary[(summary["gate"] == ALL) & (summary["direction"] == ALL)]
    assert_whole(text, numbers(shown[shown["metric"].isin([m for m, _ in terminal.SWEEP_COLUMNS])]))

    history = pd.DataFrame(
        {
            "figure": ["cleared value 2021 (USD)", "trucks a day at Huu Nghi, autumn"],
            "reported": [4.27e9, 1234.0],
            "simulated": [4.2712e9, 1201.5],
            "ci95_half_width": [3.1e7, 12.0],
            "ratio": [1.0003, 0.974],
            "source": ["facts #12, Lang Son customs department yearly report", "facts #7"],
        }
    )
    text = rendered(lambda c: terminal.print_history(history, "base_2021_calibrated: reported", console=c))
    assert_whole(text, ["4.27e+09", "4.271e+09", "3.1e+07", "1,234", "1.00", "0.97"])

    entries = pd.DataFrame(
        [
            {
                "kind": "comparison",
                "folder": "results/compare-base_2021_calibrated-digital_declaration-green",
                "state": "complete",
                "scenario": "base_2021_calibrated vs digital_declaration",
                "replications": 10,
                "date": "2026-11-28 04:46",
            }
        ]
    )
    text = rendered(lambda c: terminal.print_listing(entries, "results", console=c))
    assert_whole(text, ["2026-11-28 04:46", "complete", "10"])


def test_not_modelled_and_one_replication_are_said_not_zero() -> None:
    one = year_scale_summary(n=1).assign(half_width=np.nan, sd=np.nan)
    text = rendered(lambda c: terminal.print_run_summary(one, "mmc", 1, console=c))
    assert terminal.ONE_REPLICATION in text and "±" not in text

    summary = year_scale_summary()
    summary["modelled"] = ~summary["metric"].isin(["spoiled_trucks", "waiting_cost_usd"])
    summary.loc[~summary["modelled"], ["mean", "half_width"]] = 0.0
    text = rendered(lambda c: terminal.print_run_summary(summary, "mmc", 10, console=c))
    assert "not modelled" in text and "0 ± 0" not in text


def test_markup_in_user_text_prints_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    terminal.configure_logging(0)
    terminal.error("install the extra: pip install -e '.[dask]'")
    assert "'.[dask]'" in capsys.readouterr().err
    text = rendered(
        lambda c: terminal.print_run_summary(year_scale_summary(), "[bold]odd[/] name", 10, console=c)
    )
    assert "[bold]odd[/] name" in text


def test_version_does_not_import_pandas() -> None:
    """Import weight, not time: a light --version imports neither pandas nor the model."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "sim", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("bordersim ")
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "sim.cli" in modules  # the check reads the import log it thinks it reads
    heavy = sorted(m for m in modules if m.split(".")[0] in ("pandas", "numpy", "scipy", "simpy"))
    assert not heavy, heavy


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A finished run and a comparison under one results root."""
    root = tmp_path_factory.mktemp("store") / "results"
    policy = root.parent / "more_customs.yaml"
    policy.write_text(
        f"extends: {MINIMAL}\nname: more_customs\n"
        "gates: {huu_nghi: {import: {stages: {customs: {servers: 14}}}}}\n",
        encoding="utf-8",
    )
    common = [*SHORT, "--results-root", str(root), "--replications", "2", "--quiet"]
    assert main(["run", MINIMAL, *common, "--label", "r"]) == 0
    assert main(["compare", MINIMAL, str(policy), *common]) == 0
    return {
        "root": root,
        "run": root / "lang_son_minimal" / "r",
        "compare": root / "compare-lang_son_minimal-more_customs",
    }


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_formats_print_the_saved_data(saved: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["summary", str(saved["run"]), "--format", "csv"]) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out))
    pd.testing.assert_frame_equal(printed, pd.read_csv(saved["run"] / "summary.csv"))
    assert main(["summary", str(saved["compare"]), "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == len(pd.read_csv(saved["compare"] / "comparison.csv"))
    assert {"scenario", "metric", "mean", "diff"} <= set(records[0])
    assert main(["summary", str(saved["run"]), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.count("| huu_nghi ") == 3 and "|---" in out


def test_list_shows_every_folder_newest_first(
    saved: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["list", "--results-root", str(saved["root"]), "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    kinds = [(e["kind"], Path(e["folder"]).name, e["state"]) for e in entries]
    assert kinds[0] == ("comparison", saved["compare"].name, "complete")
    assert ("run", "r", "complete") in kinds
    assert sum(k == "run" for k, _, _ in kinds) == 2  # the run (reused as the base) and the policy's
    assert [e["date"] for e in entries] == sorted((e["date"] for e in entries), reverse=True)
    # a run cut short is listed as partial, and its summary is refused with what to do
    manifest = saved["run"] / "manifest.json"
    data = json.loads(manifest.read_text())
    partial = saved["root"] / "lang_son_minimal" / "cut"
    partial.mkdir()
    (partial / "manifest.json").write_text(json.dumps({**data, "complete": False, "done": [0]}))
    assert main(["list", "--results-root", str(saved["root"]), "--format", "csv"]) == 0
    listing = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert listing.set_index("folder").loc[str(partial), "state"] == "partial"
    assert main(["summary", str(partial)]) == 2
    assert "--resume" in capsys.readouterr().err


def test_summary_reprints_what_the_command_printed(
    saved: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    capsys.readouterr()
    assert main(["summary", str(saved["compare"])]) == 0
    out = capsys.readouterr().out
    comp = pd.read_csv(saved["compare"] / "comparison.csv")
    row = comp[(comp["scenario"] == "lang_son_minimal") & (comp["gate"] == ALL) & (comp["direction"] == ALL)]
    arrived = row[row["metric"] == "arrived"].iloc[0]
    assert metric_info("arrived").format(arrived["mean"]) in out and "more_customs" in out
    assert main(["summary", str(tmp_path)]) == 2


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_hints_quiet_and_verbose(saved: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = saved["root"]
    capsys.readouterr()
    assert (
        main(["run", MINIMAL, *SHORT, "--results-root", str(root), "--replications", "1", "--label", "h"])
        == 0
    )
    captured = capsys.readouterr()
    folder = root / "lang_son_minimal" / "h"
    assert f"bordersim plot {folder}" in captured.err and f"bordersim report {folder}" in captured.err
    assert "bordersim compare" in captured.err
    assert terminal.ONE_REPLICATION in captured.out
    args = ["run", MINIMAL, *SHORT, "--results-root", str(root), "--replications", "1"]
    assert main([*args, "--label", "q", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "arrived" in captured.out
    assert main(["--verbose", *args, "--label", "v"]) == 0
    assert re.search(r"running on .*worker", capsys.readouterr().err)


def test_a_difference_the_same_in_every_replication_is_said_so_not_given_a_zero_interval() -> None:
    import pandas as pd

    from sim.present.cells import diff_cell

    row = pd.Series(
        {"metric": "spoiled_trucks", "diff": -1.0, "diff_sd": 0.0, "n_pairs": 2, "diff_half_width": 0.0,
         "diff_pct": -100.0, "significant": False, "modelled": True}
    )  # fmt: skip
    text = diff_cell(row)
    assert "same in every replication" in text and "±" not in text and "*" not in text
    varied = diff_cell(row.copy().replace({0.0: 3.0}))
    assert "±" in varied


def _printed_commands(err: str) -> list[list[str]]:
    """Every ``bordersim ...`` command the output suggests, as argument lists (after 'bordersim')."""
    import shlex

    found = re.findall(r"bordersim ([a-z-]+ [^\n]*)", err)
    return [shlex.split(c.split(" (")[0].strip()) for c in found]  # without a trailing "(explanation)"


@pytest.mark.slow  # it runs every suggested command: plot, report, summary, a comparison (72 s here)
def test_every_command_run_and_compare_suggest_runs_as_printed(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hints after a run and a comparison (plot, report, summary, compare with a policy) are commands
    a user will paste: each one runs, as printed (the policy placeholder filled in)."""
    tmp_path = in_tmp
    policy = tmp_path / "more_customs.yaml"
    policy.write_text(
        f"extends: {MINIMAL}\nname: more_customs\n"
        "gates: {huu_nghi: {import: {stages: {customs: {servers: 16}}}}}\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["run", MINIMAL, *SHORT, "--replications", "2", "--label", "hinted"]) == 0
    suggested = _printed_commands(capsys.readouterr().err)
    assert {c[0] for c in suggested} == {"plot", "report", "compare"}
    for command in suggested:
        command = [str(policy) if w == "POLICY.yaml" else w for w in command]
        if command[0] == "compare":
            assert command.count("--set") == 2  # the run's own overrides, carried into the comparison
            command += ["--replications", "2"]  # only to keep the test short
        assert main(command) == 0, command
        err = capsys.readouterr().err
        if command[0] == "compare":
            after_compare = _printed_commands(err)
            assert {c[0] for c in after_compare} >= {"plot", "report", "summary"}
            for then in after_compare:
                assert main(then) == 0, then
                capsys.readouterr()
