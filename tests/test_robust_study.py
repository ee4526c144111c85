"""``robust`` end to end on a tiny M/M/1 toy: common inputs and common random numbers (a policy that
changes nothing gives the base's run in every input set; the base's inputs take the same value in every
policy; a policy's own input is drawn in the same sets and set in that policy only), the API's result,
and mistakes refused before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.errors import UserError
from sim.present.robust_text import summary_lines
from sim.store.tables import TABLES
from sim.studies.options import StudyOptions
from sim.studies.robust import robust
from sim.studies.robust_result import load_robust
from tests.conftest import SCENARIOS

MEAN = "gates.gate.export.stages.service.service.mean"
RATE = "arrivals.trucks.rate"


def toys(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A base with an uncertain service mean, a policy identical to it, and a policy with two servers
    and its own uncertain arrival rate."""
    base = tmp_path / "base.yaml"
    base.write_text(
        f"extends: {SCENARIOS / 'examples' / 'mmc.yaml'}\n"
        "name: toy_base\n"
        "run: {horizon: 200, warmup: 20, seed: 5, kernel: heap}\n"
        "gates: {gate: {export: {stages: {service: {servers: 1}}}}}\n"
        "arrivals: {trucks: {rate: 0.5}}\n"
        f"uncertain:\n  {MEAN}: {{low: 0.6, high: 1.0, why: toy}}\n",
        encoding="utf-8",
    )
    same = tmp_path / "same.yaml"
    same.write_text("extends: base.yaml\nname: same\n", encoding="utf-8")
    two = tmp_path / "two.yaml"
    two.write_text(
        "extends: base.yaml\nname: two\n"
        "gates: {gate: {export: {stages: {service: {servers: 2,\n"
        "  service: {dist: exponential, mean: 1.5}}}}}}\n"
        f"uncertain:\n  {RATE}: {{low: 0.3, high: 0.7, why: toy}}\n",
        encoding="utf-8",
    )
    return base, same, two


def settings(folder: Path, policy: str, point: int) -> dict:
    manifest = folder / "policies" / policy / "points" / f"point-{point:04d}" / "manifest.json"
    return json.loads(manifest.read_text(encoding="utf-8"))["settings"]


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_common_inputs_and_random_numbers_across_policies(tmp_path: Path) -> None:
    base, same, two = toys(tmp_path)
    out = tmp_path / "study"
    samples = 5
    result = robust(
        base,
        [same, two],
        StudyOptions(replications=2, jobs=1, out=out),
        samples=samples,
        metric=["mean_wait_h", "cleared"],
        explain=["same"],
    )
    sets = result.tables["sets"].set_index("set")
    assert len(sets) == samples + 1  # the central point (0) and each input set
    for metric in ("mean_wait_h", "cleared"):  # the same input set gives the same run in every policy
        pd.testing.assert_series_equal(sets[f"{metric}:same"], sets[f"{metric}:toy_base"], check_names=False)
    assert not sets["mean_wait_h:two"].equals(sets["mean_wait_h:toy_base"])
    for k in range(1, samples + 1):  # the base's input: one value per set, the same in every policy
        drawn = settings(out, "toy_base", k)
        assert drawn == settings(out, "same", k)
        assert settings(out, "two", k)[MEAN] == drawn[MEAN] == pytest.approx(sets.loc[k, MEAN])
        assert RATE not in drawn  # the policy's own input is set in that policy only
        assert settings(out, "two", k)[RATE] == pytest.approx(sets.loc[k, RATE])
    assert sets.loc[1:, MEAN].nunique() == samples and sets.loc[1:, RATE].nunique() == samples
    assert settings(out, "two", 0) == {}  # the central point is the file as written
    summary = result.summary
    same_row = summary[(summary["metric"] == "mean_wait_h") & (summary["policy"] == "same")].iloc[0]
    assert same_row["diff_p5"] == same_row["diff_p95"] == 0.0
    assert set(result.tables["boxes"]["policy"]) >= {"same"}
    assert not [p for p in out.rglob("*") if p.is_dir() and p.name in TABLES]  # metrics only


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_command_leads_with_the_robust_summary_and_the_api_has_the_result(tmp_path: Path, capsys) -> None:
    import sim

    base, _, two = toys(tmp_path)
    out = tmp_path / "cmd"
    args = ["robust", str(base), str(two), "--samples", "4", "--replications", "1", "--jobs", "1"]
    code = main([*args, "--metric", "mean_wait_h", "--target", "mean_wait_h<=0.3", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.lstrip().startswith("Across 4 plausible input sets")
    assert "minimax regret" in printed and "meets mean_wait_h<=0.3" in printed
    assert (out / "plots" / "robust_driver.png").is_file()
    view = sim.robust(
        str(base),
        [str(two)],
        samples=4,
        replications=1,
        jobs=1,
        out=str(out),
        metric=["mean_wait_h"],
        target="mean_wait_h<=0.3",
    )
    assert set(view.summary["policy"]) == {"toy_base", "two"}
    assert {"robust", "sets", "boxes", "voi"} <= set(view.tables)
    assert view.tables["robust"]["meets_target"].between(0, 1).all()
    assert [p.suffix for p in view.plot(tmp_path / "figs")] == [".png", ".svg"]


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--explain", "nobody"], "--explain"),
        (["--method", "sobol", "--samples", "6"], "--samples"),
        (["--metric", "no_such_metric"], "--metric"),
        (["--target", "mean_wait_h<3"], "--target"),
        (["--metric", "total_cost_usd"], "--metric"),  # the toy has no cost rates: not modelled
        (["--target", "spoiled_trucks<=3"], "--target"),  # nor perishables
    ],
)
def test_mistakes_are_refused_before_anything_runs(tmp_path: Path, capsys, extra, option) -> None:
    base, _, two = toys(tmp_path)
    out = tmp_path / "bad"
    code = main(["robust", str(base), str(two), "--samples", "4", "--out", str(out), *extra])
    assert code == 2
    assert option in capsys.readouterr().err
    assert not (out / "policies").exists()


def test_a_base_without_uncertain_ranges_is_refused(tmp_path: Path) -> None:
    mmc = SCENARIOS / "examples" / "mmc.yaml"
    with pytest.raises(UserError) as err:
        robust(mmc, [mmc], StudyOptions(out=tmp_path / "x"), samples=4)
    assert err.value.problems[0].path == "uncertain"


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_headline_metrics_the_base_cannot_produce_are_not_ranked_as_zeros(tmp_path: Path, capsys) -> None:
    """The toy sets no cost rates and no perishables: net cost, waiting cost and spoiled trucks are not
    modelled, so they are left out of the ranking and said to be (a tie at 0 would read as a result)."""
    base, _, two = toys(tmp_path)
    result = robust(base, [two], StudyOptions(out=tmp_path / "r", replications=1, jobs=1), samples=4)
    assert {"net_cost_usd", "waiting_cost_usd", "spoiled_trucks"} <= set(result.not_modelled)
    assert not set(result.summary["metric"]) & set(result.not_modelled)
    assert set(result.summary["metric"])  # what is modelled is still ranked


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_robust_folder_is_listed_as_robust_and_its_report_leads_with_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """``list`` and ``report`` know a robust folder (they took it for a run, and ``report`` refused it):
    the report leads with the robust summary in words, then the regret table of each headline metric
    with every policy, the figure over the input worth learning, the caution about few input sets, and
    the saved tables with robust.csv first."""
    base, _, two = toys(tmp_path)
    monkeypatch.chdir(tmp_path)
    args = ["robust", str(base), str(two), "--samples", "4", "--replications", "1", "--jobs", "1"]
    assert main([*args, "--metric", "mean_wait_h", "--label", "r"]) == 0
    folder = tmp_path / "results" / "toy_base" / "robust-r"
    capsys.readouterr()
    assert main(["list", "--format", "csv"]) == 0
    listed = capsys.readouterr().out
    assert "robust,results/toy_base/robust-r,complete,toy_base,1," in listed
    assert main(["report", str(folder)]) == 0
    html = (folder / "report" / "index.html").read_text(encoding="utf-8")
    lead = html.find("Across 4 plausible input sets")
    assert 0 < lead < html.find("exp. regret") < html.find("<img")
    assert "only 4 input sets" in html
    assert html.count("<td>toy_base</td>") >= 2 and html.count("<td>two</td>") >= 2  # regret + raw table
    assert html.find("<summary>robust.csv") < html.find("<summary>boxes.csv")


def _twin(tmp_path: Path, particles: dict[str, list[float]]) -> Path:
    folder = tmp_path / "twin"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"kind": "assimilate"}), encoding="utf-8")
    pd.DataFrame(particles).to_csv(folder / "particles.csv", index=False)
    return folder


@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_inputs_the_twin_learned_are_drawn_from_its_posterior_the_policies_own_from_their_ranges(
    tmp_path: Path,
) -> None:
    """Issue 31 item 4: with --twin, the base's service mean comes from the twin's particles in proportion
    to their weights (here all the weight on one particle, at 0.25 of the range: 0.7), while the policy's
    own arrival rate keeps its prior draws."""
    base, _, two = toys(tmp_path)
    particles = {"particle": [0, 1], "weight": [1.0, 0.0], f"u:{MEAN}": [0.25, 0.9], MEAN: [0.7, 0.96]}
    twin = _twin(tmp_path, particles)
    options = StudyOptions(replications=1, jobs=1, out=tmp_path / "s")
    result = robust(base, [two], options, samples=5, metric=["mean_wait_h"], twin=str(twin))
    sets = result.tables["sets"].set_index("set").loc[1:]
    assert sets[MEAN].tolist() == pytest.approx([0.7] * 5)
    assert sets[RATE].nunique() == 5  # the policy's own input: still its prior's Latin hypercube
    assert result.learned == [MEAN]
    assert "drawn from its posterior" in " ".join(summary_lines(load_robust(tmp_path / "s")))


def test_a_twin_is_checked_before_anything_runs(tmp_path: Path) -> None:
    base, _, two = toys(tmp_path)
    options = StudyOptions(replications=1, jobs=1, out=tmp_path / "s")
    with pytest.raises(UserError, match="not an assimilate folder"):
        robust(base, [two], options, samples=4, twin=str(tmp_path))
    other = _twin(tmp_path, {"particle": [0], "weight": [1.0], "u:arrivals.other.rate": [0.5]})
    with pytest.raises(UserError, match="learned none of the uncertain inputs"):
        robust(base, [two], options, samples=4, twin=str(other))
    assert not (tmp_path / "s").exists()
