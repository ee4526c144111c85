"""``optimise`` finds the known cheapest staffing of a small queueing network.

Two M/M/c stations in series with Poisson arrivals: by Jackson's theorem each behaves as an M/M/c queue,
so the mean total wait is the sum of two Erlang C waits, computed here independently of the model. The
cheapest (servers at A, servers at B) whose total wait is at most the target follows by enumeration;
the target is set between the optimum's wait and that of every configuration costing no more, with a
margin of about 1.6x either way, so that the answer is not a matter of noise.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.errors import UserError
from sim.store.tables import TABLES
from sim.studies.optimise import optimise, parse_target, parse_variables
from sim.studies.options import StudyOptions

LAM, MEAN_A, MEAN_B = 2.0, 1.0, 0.6
COST = {"a": 1.0, "b": 2.0}
RANGE = {"a": (3, 8), "b": (2, 6)}
TARGET = 0.21  # hours of waiting in both queues together


def erlang_c_wait(lam: float, mean_service: float, c: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C), infinite when the queue is unstable."""
    a = lam * mean_service
    if a >= c:
        return math.inf
    below = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (below + top) * mean_service / (c - a)


def cheapest() -> tuple[tuple[int, int], float, float]:
    """The exact answer: the cheapest design meeting the target, its wait, and the smallest wait of any
    other design that costs no more."""
    designs = [
        (
            COST["a"] * ca + COST["b"] * cb,
            (ca, cb),
            erlang_c_wait(LAM, MEAN_A, ca) + erlang_c_wait(LAM, MEAN_B, cb),
        )
        for ca in range(RANGE["a"][0], RANGE["a"][1] + 1)
        for cb in range(RANGE["b"][0], RANGE["b"][1] + 1)
    ]
    best = min((d for d in designs if d[2] <= TARGET), key=lambda d: d[0])
    rivals = [d[2] for d in designs if d[0] <= best[0] and d[1] != best[1]]
    return best[1], best[2], min(rivals)


def _network(tmp_path: Path) -> Path:
    path = tmp_path / "two_stations.yaml"
    path.write_text(
        f"""name: two_stations
run: {{time_unit: hours, horizon: 3000, warmup: 200, seed: 11}}
truck_classes: {{truck: {{commodity: generic}}}}
gates:
  gate:
    export:
      stages:
        a: {{servers: 4, service: {{dist: exponential, mean: {MEAN_A}}}}}
        b: {{servers: 3, service: {{dist: exponential, mean: {MEAN_B}}}}}
arrivals: {{trucks: {{gate: gate, direction: export, truck_class: truck, rate: {LAM}}}}}
""",
        encoding="utf-8",
    )
    return path


def test_the_margins_make_the_answer_unambiguous() -> None:
    (ca, cb), wait, rival = cheapest()
    assert (ca, cb) == (4, 3)
    assert wait < TARGET / 1.5 and rival > TARGET * 1.5


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_optimise_finds_the_erlang_c_minimum(tmp_path: Path) -> None:
    (ca, cb), wait, _ = cheapest()
    keys = {s: f"gates.gate.export.stages.{s}.servers" for s in ("a", "b")}
    variables = parse_variables(
        [f"{keys[s]}={RANGE[s][0]}..{RANGE[s][1]}" for s in ("a", "b")],
        [f"{keys[s]}={COST[s]}" for s in ("a", "b")],
    )
    result = optimise(
        _network(tmp_path),
        variables,
        parse_target(f"mean_wait_h<={TARGET}"),
        StudyOptions(replications=4, root=tmp_path / "results", label="t"),
        final_replications=10,
    )
    assert not result.failures and result.met and result.feasible
    assert result.chosen == {keys["a"]: ca, keys["b"]: cb}
    assert result.cost == COST["a"] * ca + COST["b"] * cb
    assert result.replications == 10
    assert result.mean - result.half_width <= wait * 1.25 and result.mean + result.half_width >= wait * 0.75
    table = pd.read_csv(result.folder / "evaluations.csv")
    assert len(table) == len(list((result.folder / "points").iterdir())) >= 3
    assert table["chosen"].sum() == 1 and table.loc[table["chosen"], "meets_target"].all()
    assert not [p for p in result.folder.rglob("*") if p.is_dir() and p.name in TABLES]  # metrics only
    cheaper = table[table["cost"] < result.cost]
    assert len(cheaper) and not cheaper["meets_target"].any()
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["kind"] == "optimise" and manifest["met"] and "greedy" in manifest["method"]


@pytest.mark.parametrize(
    "args",
    [
        ["--var", "a.b=3", "--target", "mean_wait_h<=1"],
        ["--var", "a.b=5..3", "--target", "mean_wait_h<=1"],
        ["--var", "a.b=1..3", "--target", "mean_wait_h=1"],
        ["--var", "a.b=1..3", "--target", "nope<=1"],
        ["--var", "a.b=1..3", "--cost", "c.d=2", "--target", "mean_wait_h<=1"],
        ["--var", "gates.gate.export.stages.a.servers=0..3", "--target", "mean_wait_h<=1"],
    ],
)
def test_optimise_mistakes_exit_2_and_write_nothing(tmp_path: Path, args: list[str]) -> None:
    code = main(["optimise", str(_network(tmp_path)), *args, "--results-root", str(tmp_path / "r")])
    assert code == 2
    assert not (tmp_path / "r").exists()


def test_a_study_file_gives_variables_costs_and_target(tmp_path: Path) -> None:
    from sim.studies.optimise import read_study_file

    study = tmp_path / "study.yaml"
    study.write_text(
        "variables:\n  gates.gate.export.stages.a.servers: {range: [3, 8], cost: 2.5}\n"
        "target: mean_wait_h <= 0.3\nreplications: 3\n",
        encoding="utf-8",
    )
    spec = read_study_file(study)
    variables = parse_variables(spec["variables"], spec["costs"])
    assert variables[0].cost == 2.5 and (variables[0].low, variables[0].high) == (3, 8)
    assert str(parse_target(spec["target"])) == "mean_wait_h <= 0.3"
    study.write_text("variables: {x: {range: [1]}}\n", encoding="utf-8")
    with pytest.raises(UserError, match="range"):
        read_study_file(study)
