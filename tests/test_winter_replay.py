"""The winter 2021-22 replay (scenarios/lang_son/winter_2021_22.yaml) is built from dated, sourced inputs.

Three kinds of check, all fast:
- the file: it loads, its header says its backlog is an output held out for validation, and every number
  in it (rates, factors, caps, lanes, service times, dates) carries a ``facts #N`` / ``facts 2.x``
  citation or an ``assumption:`` on its line (or in the ``reason`` of its closure), and cites only rows
  the facts file has;
- the arithmetic of its arrivals: the province's export flow on each dated step is the count the header
  derives (rerouting between gates moves trucks, it never makes or loses any);
- its dated changes on short windows of the real file: the onset of the Chinese caps changes the
  clearance on its date (24 Nov), arrivals at a gate stop on the day its gate closes, the fresh-fruit stop
  takes effect on 17 Jan and ends at Tet, Tan Thanh's crossings stop on 18 Dec, the hours-long screening
  starts on 13 Feb and the digital declaration on 21 Feb.

The mechanism of dated inputs is tested on its own in tests/test_dated_inputs.py; here it is the replay's
dates and numbers. Random stoppages are switched off in the windows so that a day's count depends on the
dated inputs only.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.analysis.backlog import daily_interval, peak_by_replication
from sim.model.calendar import Calendar
from sim.scenario.schema import Scenario
from sim.scenario.sources import header_comment, line_comment
from tests.conftest import ROOT, SCENARIOS, run, scenario

REPLAY = SCENARIOS / "lang_son" / "winter_2021_22.yaml"
FACTS = ROOT / "data" / "lang_son_facts.md"
DAY = 24.0
NUMBERS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
CITES = re.compile(r"facts (#\d+|\d\.\d)|assumption", re.IGNORECASE)
ONSET = date(2021, 11, 24)  # the onset of China's controls in the replay (an assumption with a range)
NO_STOPPAGES = [f"gates.{g}.random_closures=null" for g in ("huu_nghi", "tan_thanh", "chi_ma")] + [
    "uncertain=null"  # its ranges name the stoppages' dates
]


# ---- the file --------------------------------------------------------------------------------------
def uncited_numbers(text: str) -> list[tuple[int, str]]:
    """(line, value) of every number or date of a scenario text, outside ``run`` and ``uncertain`` (whose
    ranges carry their own source), whose line comment does
    not cite the facts or say ``assumption`` (nor the ``reason`` of the closure it belongs to)."""
    lines = text.splitlines()
    out: list[tuple[int, str]] = []

    def walk(node: yaml.Node, reason: str, top: bool) -> None:
        if isinstance(node, yaml.MappingNode):
            here = " ".join(
                v.value for k, v in node.value if k.value == "reason" and isinstance(v, yaml.ScalarNode)
            )
            for k, v in node.value:
                # ``run``: how the run is looked at, not the world; ``uncertain``: each range carries its
                # own ``source`` or ``why`` (the schema requires one)
                if not (top and k.value in ("run", "uncertain")):
                    walk(v, f"{reason} {here}", False)
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                walk(v, reason, False)
        elif isinstance(node, yaml.ScalarNode) and node.tag in NUMBERS:
            line = node.start_mark.line
            if not CITES.search(line_comment(lines[line])) and not CITES.search(reason):
                out.append((line + 1, node.value))

    root = yaml.compose(text)
    if root is not None:
        walk(root, "", True)
    return out


def test_the_citation_check_finds_an_uncited_number() -> None:
    text = (
        "run: {horizon: 24}\n"
        "a: 3\n"
        "b: 4   # facts #2: cited\n"
        "c: {x: 2022-01-05, reason: 'assumption: dated'}\n"
        "d: [{from: 2022-01-01, factor: 0.5}]   # see above\n"
        "e: &anchor 7   # assumption: an anchor's line cites for its aliases\n"
        "f: *anchor\n"
    )
    assert uncited_numbers(text) == [(2, "3"), (5, "2022-01-01"), (5, "0.5")]


def test_every_number_of_the_replay_cites_a_source_or_an_assumption() -> None:
    assert uncited_numbers(REPLAY.read_text(encoding="utf-8")) == []


def test_the_replay_cites_only_rows_the_facts_file_has() -> None:
    rows = {int(n) for n in re.findall(r"^\| (\d+) \|", FACTS.read_text(encoding="utf-8"), re.MULTILINE)}
    cited = {int(n) for n in re.findall(r"#(\d+)", REPLAY.read_text(encoding="utf-8"))}
    assert cited and cited <= rows, sorted(cited - rows)


def test_the_replay_loads_and_says_its_backlog_is_an_output() -> None:
    s = replay()
    cal = Calendar(s.run.start, s.run.unit_hours)
    assert s.run.start == datetime(2021, 11, 1)  # November's normal flow: the queue on 1 Dec is an output
    assert cal.from_datetime(datetime(2021, 12, 1)) == s.run.warmup
    assert cal.from_datetime(datetime(2022, 4, 1)) == s.run.horizon
    assert s.demand is None and all(a.schedule for a in s.arrivals.values())
    header = " ".join(header_comment(REPLAY).split())
    assert "DATED INPUTS ONLY" in header and "held out for validation" in header
    assert "no queue or backlog figure" in header


# ---- the arrivals' arithmetic -----------------------------------------------------------------------
@lru_cache(maxsize=1)
def replay() -> Scenario:
    return scenario("lang_son/winter_2021_22.yaml")


def flow_on(day: date, direction: str, fruit: bool | None = None) -> float:
    """The replay's arrivals a day (all gates) in a direction on ``day``, from its schedules."""
    s = replay()
    total = 0.0
    for a in s.arrivals.values():
        if a.direction != direction:
            continue
        if fruit is not None and (s.truck_classes[a.truck_class].commodity == "fresh_fruit") != fruit:
            continue
        level = 1.0
        for change in a.schedule:
            if change.from_ <= day:
                level = change.factor if change.factor is not None else change.rate / a.rate
        total += a.rate * level
    return total


@pytest.mark.parametrize(
    "day, exports, fruit_share",
    [
        (date(2021, 11, 1), 295.0, 0.75),  # the normal 2021 flow (facts 2.3) ...
        (ONSET, 295.0, 0.75),  # ... rerouted from Coc Nam at the onset,
        (date(2021, 12, 15), 295.0, 0.75),  # and from Chi Ma
        (date(2021, 12, 18), 150.0, 0.75),  # the crisis flow once Tan Thanh closes (facts 2.3: 100-200)
        (date(2021, 12, 27), 150.0, 0.75),  # Chi Ma again
        (date(2022, 1, 5), 113.0, 0.75),  # the province's curb (facts #27)
        (date(2022, 1, 17), 113.0 * 0.25, 0.0),  # fresh fruit not received until Tet
        (date(2022, 1, 25), 113.0 * 0.25, 0.0),  # Tan Thanh reopens
        (date(2022, 2, 1), 170.0, 0.75),  # Tet: fruit again (facts #27, #30)
        (date(2022, 2, 16), 170.0 * 0.25, 0.0),  # fresh-fruit ban
        (date(2022, 3, 1), 170.0 * 0.25, 0.0),  # Huu Nghi closed: all to Tan Thanh
        (date(2022, 3, 16), 170.0, 0.75),  # ban over
    ],
)
def test_export_arrivals_on_each_dated_step(day: date, exports: float, fruit_share: float) -> None:
    assert flow_on(day, "export") == pytest.approx(exports, abs=0.05)
    assert flow_on(day, "export", fruit=True) == pytest.approx(exports * fruit_share, abs=0.05)


def test_crisis_export_arrivals_stay_inside_the_facts_range_once_the_gates_close() -> None:
    """Facts 2.3: 100-200 export trucks a day from December to February once Tan Thanh closed, routed to
    whichever gate is open (the pre-crisis split is not the crisis rate)."""
    day = date(2021, 12, 18)
    while day < date(2022, 3, 1):
        fruit_stop = date(2022, 1, 17) <= day < date(2022, 2, 1) or day >= date(2022, 2, 16)
        total = flow_on(day, "export")
        assert 100 <= total <= 200 or (fruit_stop and total == pytest.approx(flow_on(day, "export", False)))
        day += timedelta(days=1)


def test_the_onset_is_one_dated_input() -> None:
    """Every input the onset moves (the Chinese caps, the random stoppages, Coc Nam's arrivals) starts on
    the same date, a week before the trade figures of facts #40 show the slowdown in force."""
    s = replay()
    caps = [
        c.from_
        for g in ("huu_nghi", "tan_thanh", "chi_ma")
        for c in s.gates[g].export.stages["china_side"].changes  # type: ignore[union-attr]
        if c.daily_cap is not None
    ]
    assert min(caps) == ONSET
    assert {s.gates[g].random_closures.from_ for g in ("huu_nghi", "tan_thanh", "chi_ma")} == {ONSET}  # type: ignore[union-attr]
    assert flow_on(ONSET - timedelta(days=1), "export") == flow_on(ONSET, "export")
    assert all(a.schedule[1].from_ == ONSET for n, a in s.arrivals.items() if n.startswith("coc_nam_fruit"))



WINTER_FILES = [
    "lang_son/winter_2021_22.yaml",
    "lang_son/winter_fruit_stop_20dec.yaml",
    *[f"lang_son/policies_winter/{p.name}" for p in sorted(SCENARIOS.glob("lang_son/policies_winter/*"))],
]


def outside_its_range(s: Scenario) -> list[str]:
    """Every value an ``uncertain:`` input sets whose own (file) value lies outside the input's range: a
    range must hold the file's value, so that the file stays the central point of every study."""
    from sim.scenario.uncertain import Inputs

    out = []
    for item in Inputs(s).items:
        low, high = item.spec.low, item.spec.high
        for path, value in item.targets:
            if item.dated:
                held = low <= (value.date() if isinstance(value, datetime) else value) <= high
            else:
                held = low <= (1.0 if item.spec.scale else value) <= high
            if not held:
                out.append(f"{item.name}: {'.'.join(map(str, path))}={value} outside {item.range_text()}")
    return out


def test_the_range_check_finds_a_value_outside_its_range() -> None:
    s = scenario("lang_son/winter_2021_22.yaml", "uncertain.gates.chi_ma.closures.1.end.high=2022-03-31")
    key = "gates.chi_ma.closures.1.end"
    assert outside_its_range(s) == [f"{key}: {key}=2022-04-01 00:00:00 outside 2022-02-15 .. 2022-03-31"]


@pytest.mark.parametrize("name", WINTER_FILES)
def test_every_uncertain_range_holds_the_files_own_value(name: str) -> None:
    """The prior (issue 30, item 0) is wide, but centred on the file: each range holds the value it
    replaces, and each range says where it comes from."""
    s = scenario(name)
    assert outside_its_range(s) == []
    assert s.uncertain and all(r.source.strip() or r.why.strip() for r in s.uncertain.values())

def test_huu_nghi_keeps_a_zone_for_each_direction_and_turn_backs_are_a_hazard() -> None:
    s = replay()
    hn = s.gates["huu_nghi"]
    assert hn.export.yard is not None and hn.import_.yard is not None  # type: ignore[union-attr]
    for g in s.gates.values():
        rule = g.export.reneging  # type: ignore[union-attr]
        assert rule.patience_h is None and rule.hazard.per_day < rule.hazard.past_shelf_life_per_day


def test_import_arrivals_stop_over_tet() -> None:
    assert flow_on(date(2021, 12, 1), "import") == pytest.approx(530)
    assert flow_on(date(2022, 2, 1), "import") == 0


# ---- dated changes on short windows of the replay ---------------------------------------------------
def window(start: str, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    s = scenario(
        "lang_son/winter_2021_22.yaml",
        f"run.start={start}T00:00:00",
        f"run.horizon={days * DAY}",
        "run.warmup=0",
        *NO_STOPPAGES,
    )
    tables = run(s, 2122)
    return tables.trucks, tables.stages


def per_day(times: pd.Series, days: int) -> np.ndarray:
    return np.bincount((times.dropna().to_numpy() // DAY).astype(int), minlength=days)[:days]


def exports_of(trucks: pd.DataFrame, days: int):
    """Per-gate daily arrivals (first rows only) and crossings of the exports of a window."""
    exports = trucks[trucks["direction"] == "export"]
    first = exports[exports["diverted_from"] < 0]  # a diverted truck's second row is not an arrival

    def arrived(gate: str) -> np.ndarray:
        return per_day(first.loc[first["gate"] == gate, "arrival"], days)

    def crossed(gate: str) -> np.ndarray:
        done = exports[(exports["gate"] == gate) & (exports["status"] == "cleared")]
        return per_day(done["cleared"], days)

    return arrived, crossed


def test_the_onset_changes_clearance_on_its_date() -> None:
    """The dated onset (24 Nov): Huu Nghi's lanes clear what arrives (~140 a day) before it, exactly the
    cap of 65 from it; Tan Thanh is held to 35 and Coc Nam receives no more exports from the same day."""
    trucks, _ = window("2021-11-22", 4)  # 22-25 November
    arrived, crossed = exports_of(trucks, 4)
    assert crossed("huu_nghi")[1] > 100 and crossed("huu_nghi")[2:].tolist() == [65, 65]
    assert crossed("tan_thanh")[1] > 35 and crossed("tan_thanh")[2:].tolist() == [35, 35]
    assert (crossed("chi_ma")[2:] <= 25).all()
    assert (arrived("coc_nam")[:2] > 0).all() and (arrived("coc_nam")[2:] == 0).all()


def test_mid_december_rerouting_caps_and_closures_take_effect_on_their_dates() -> None:
    trucks, _ = window("2021-12-14", 5)  # 14-18 December
    arrived, crossed = exports_of(trucks, 5)
    assert arrived("chi_ma")[0] > 0 and (arrived("chi_ma")[1:] == 0).all()  # blocked from 15 Dec
    assert (arrived("coc_nam") == 0).all()  # none sent since the onset
    assert (arrived("tan_thanh")[:4] > 0).all() and arrived("tan_thanh")[4] == 0  # closed from 18 Dec
    # Huu Nghi takes the rerouted trucks: 155 a day on the 14th, 185 on the 15th-17th, then the crisis
    # flow of 150 on the 18th (Poisson counts)
    hn = arrived("huu_nghi")
    for day, rate in [(0, 155), (1, 185), (2, 185), (3, 185), (4, 150)]:
        assert abs(hn[day] - rate) < 4.5 * np.sqrt(rate), (day, hn[day], rate)
    assert crossed("huu_nghi")[1:].tolist() == [65] * 4  # the cap binds
    assert crossed("tan_thanh")[3] > 0 and crossed("tan_thanh")[4] == 0  # Pu Zhai closed on 18 Dec


def test_the_fresh_fruit_stop_and_chi_ma_closure_of_17_january() -> None:
    trucks, _ = window("2022-01-15", 4)  # 15-18 January
    exports = trucks[(trucks["direction"] == "export") & (trucks["diverted_from"] < 0)]
    fruit = exports["commodity"] == "fresh_fruit"
    assert (per_day(exports.loc[fruit, "arrival"], 4) > 0)[:2].all()
    assert (per_day(exports.loc[fruit, "arrival"], 4)[2:] == 0).all()
    assert (per_day(exports.loc[~fruit, "arrival"], 4)[2:] > 0).all()  # other exports keep coming
    cm = trucks[trucks["gate"] == "chi_ma"]
    assert per_day(cm["arrival"], 4)[0] > 0 and (per_day(cm["arrival"], 4)[2:] == 0).all()
    assert (per_day(cm.loc[cm["status"] == "cleared", "cleared"], 4)[2:] == 0).all()


def test_fresh_fruit_is_received_again_from_tet() -> None:
    trucks, _ = window("2022-01-30", 3)  # 30 Jan - 1 Feb (Tet: facts #27 "until Tet")
    exports = trucks[(trucks["direction"] == "export") & (trucks["diverted_from"] < 0)]
    fruit = per_day(exports.loc[exports["commodity"] == "fresh_fruit", "arrival"], 3)
    assert fruit[:2].tolist() == [0, 0] and abs(fruit[2] - 127.5) < 4.5 * np.sqrt(127.5)  # 170 x 0.75


def test_slow_chinese_screening_from_13_february_and_digital_declaration_from_21_february() -> None:
    _, stages = window("2022-02-12", 10)  # 12-21 February
    exports = stages[stages["direction"] == "export"]
    china = exports[(exports["stage"] == "china_side") & (exports["gate"] == "huu_nghi")]
    day = (china["start"] // DAY).to_numpy()
    assert (day == 0).any() and (china["service"][day == 0] <= 0.25).all()  # 10-15 min on 12 Feb
    assert (day >= 1).any() and (china["service"][day >= 1] >= 1.0).all()  # hours from 13 Feb (facts #31)
    paper = exports[exports["stage"] == "declaration_processing"]
    day = (paper["start"] // DAY).to_numpy()
    assert (paper["service"][day == 8] >= 6).all() and (day == 8).any()  # paper on 20 Feb: 6-8 h
    assert (paper["service"][day == 9] <= 2).all() and (day == 9).any()  # digital from 21 Feb: 1-2 h


# ---- the daily series across replications (sim/analysis/backlog.py) --------------------------------
def test_daily_interval_and_peaks_across_replications() -> None:
    """Two replications of a hand-made step series: the day's value at noon is known exactly, so the
    mean and its count interval (the trucks waiting are a count: the quasi-Poisson score interval, the
    roots of its quadratic, solved here by numpy) must be those of the known values, and the peak and
    its date are known."""
    rows = [
        # replication, time (h), gate, direction, counts (before_yard, outside, in_yard, waiting)
        (0, 0.0, "a", "export", 0, 0, 0, 0),
        (0, 10.0, "a", "export", 1, 2, 3, 6),  # day 0 at noon: 6
        (0, 30.0, "a", "export", 0, 5, 5, 10),  # day 1 at noon: 10 + b's 1
        (0, 40.0, "a", "export", 0, 0, 2, 2),
        (0, 5.0, "b", "export", 0, 0, 1, 1),
        (0, 20.0, "b", "import", 0, 0, 4, 4),  # an import: left out of the export series
        (1, 0.0, "a", "export", 0, 0, 0, 0),
        (1, 11.0, "a", "export", 0, 0, 8, 8),  # day 0 at noon: 8
        (1, 37.0, "a", "export", 0, 0, 20, 20),  # day 1 at noon: 8, then 20 from 13:00
    ]
    series = pd.DataFrame(
        rows,
        columns=["replication", "time", "gate", "direction", "before_yard", "outside", "in_yard", "waiting"],
    )
    start = datetime(2022, 1, 1)
    d = daily_interval(series, start, 1.0, 48.0, direction="export")
    assert d["date"].tolist() == [date(2022, 1, 1), date(2022, 1, 2)]
    for i, values in enumerate([[7, 8], [11, 8]]):
        assert d.loc[i, "mean"] == pytest.approx(np.mean(values))
        m, v, n = np.mean(values), np.var(values, ddof=1), len(values)
        c = stats.t.ppf(0.975, n - 1) ** 2 * (v / m) / n  # (m - mu)^2 = c mu
        low, high = sorted(np.roots([1.0, -(2 * m + c), m**2]).real)
        assert d.loc[i, ["ci_low", "ci_high"]].tolist() == pytest.approx([low, high])
        assert d.loc[i, "interval"] == "quasi-Poisson" and 0 <= low < m < high
        assert d.loc[i, "n"] == 2
    assert d.loc[1, "peak_mean"] == pytest.approx((11 + 20) / 2)
    p = peak_by_replication(series, start, 1.0, direction="export")
    assert p["peak"].tolist() == [11, 20] and p["time"].tolist() == [30.0, 37.0]
    assert p["date"].tolist() == [date(2022, 1, 2), date(2022, 1, 2)]


# ---- the replay's period for validate-history: December to March, after its November warm-up --------
def test_validate_history_takes_the_replay_period_after_its_warm_up() -> None:
    from sim.errors import UserError
    from sim.scenario import load_scenario
    from sim.studies.history import _check_period

    _check_period(load_scenario(REPLAY), "winter_2021_22")  # 1 Dec (after the warm-up) - 31 Mar
    with pytest.raises(UserError, match="after any warm-up"):
        _check_period(load_scenario(REPLAY, ["run.warmup=0"]), "winter_2021_22")


def test_history_figures_leave_out_the_warm_up() -> None:
    """A figure over the run's period counts only what happened after the warm-up: the crossings a day,
    the cleared value and the peak, each recomputed here from the tables."""
    from sim.analysis.backlog import group_steps, peak
    from sim.analysis.history import OUTSIDE, history_values, outside_reason

    s = scenario("examples/mmc.yaml", "run.horizon=200", "run.warmup=50")
    tables = run(s, 5)
    cleared = tables.trucks[(tables.trucks["status"] == "cleared") & (tables.trucks["exit"] >= 50)]
    per_day, value, top = history_values(
        tables,
        s,
        [{"kind": "cleared_per_day"}, {"kind": "cleared_value_musd"}, {"kind": "peak_waiting"}],
    )
    assert per_day == pytest.approx(len(cleared) / (150 * s.run.unit_hours / 24))
    assert value == pytest.approx(cleared["value_usd"].sum() / 1e6)
    assert top == peak(group_steps(tables.backlog_series), "waiting", 50.0)
    before = s.run.start + pd.Timedelta(hours=10 * s.run.unit_hours)
    assert outside_reason(s, {"kind": "waiting_on", "date": before.date()}) == OUTSIDE
