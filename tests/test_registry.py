"""The study registry (docs/architecture.md, section 4): every study declares its settings once, and the
command line, the API and the page are made from that declaration.

The three faces must agree on every setting of every study: the same default (the study function's own),
the same limits and choices, and the same value reaching the study for the same input. A study added
as one module appears in all three without an edit in ``commands``, ``app`` or ``api``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import sim.api
import sim.studies
from sim.app.study_form import replications_widget, study_form
from sim.cli import build_parser, main
from sim.errors import UserError
from sim.studies import registry
from sim.studies.registry import REQUIRED, Setting, Study, studies

STUDIES = studies()
EVERY_SETTING = [(s.name, x.name) for s in STUDIES.values() for x in s.settings]


class Recorder:
    """Streamlit's widget functions, recording what each widget was made with."""

    def __init__(self) -> None:
        self.widgets: dict[str, dict[str, Any]] = {}

    def _record(self, kind: str, label: str, *args: Any, **kwargs: Any) -> Any:
        self.widgets[kwargs["key"]] = {"kind": kind, "label": label, "args": args, **kwargs}
        if kind == "selectbox":
            return args[0][kwargs.get("index", 0)]
        if kind in ("text_input", "text_area"):
            return kwargs.get("value", "")
        return kwargs.get("value")

    def __getattr__(self, kind: str) -> Any:
        return functools.partial(self._record, kind)


def subparser(name: str) -> Any:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sub.choices[name]


def action(name: str, setting: Setting) -> Any:
    return next(a for a in subparser(name)._actions if a.dest == setting.name)


def test_every_study_module_is_registered() -> None:
    """The studies of this release, each found from its own module's declaration."""
    assert {
        "run",
        "compare",
        "sweep",
        "calibrate",
        "validate-history",
        "optimise",
        "sensitivity",
        "uncertainty",
        "forecast",
    } <= set(STUDIES)
    for declared in STUDIES.values():
        assert declared.function.__module__.startswith("sim.studies.")


@pytest.mark.parametrize(("study", "name"), EVERY_SETTING, ids=[f"{a}.{b}" for a, b in EVERY_SETTING])
def test_the_three_faces_show_the_same_default_limits_and_choices(study: str, name: str) -> None:
    declared = STUDIES[study]
    s = declared.setting(name)
    default = declared.default(name)
    # the one place: the study function's own keyword default
    assert default is inspect.signature(declared.function).parameters[name].default
    # command line: nothing given leaves it to the study (None), the help says the default, same choices
    act = action(study, s)
    given = act.default if act.option_strings else None
    assert given in (None, [], ())  # the parser never sets a default of its own
    if s.choices:
        assert tuple(act.choices) == s.choices
    if default not in (None, (), REQUIRED, False) and "default" not in s.help:
        assert f"(default {default})" in act.help.replace("%%", "%")
    # API: the generated function's signature has the same default
    api = inspect.signature(getattr(sim.api, declared.api_name)).parameters[name]
    assert api.default == (inspect.Parameter.empty if default is REQUIRED else default)
    # page: the widget starts at the same default, with the same limits and choices
    if s.page:
        st = Recorder()
        study_form(st, declared, "k")
        made = st.widgets[f"k_{name}"]
        expected = None if default is REQUIRED else default
        if s.choices:
            assert tuple(made["args"][0]) == s.choices and made["args"][0][made["index"]] == expected
        elif s.many:
            assert made["value"] == "\n".join(str(v) for v in expected or ())
        elif s.kind == "flag":
            assert made["value"] is bool(expected)
        elif s.kind in ("int", "float"):
            assert made["value"] == expected and made.get("min_value") == s.minimum
            assert made.get("max_value") == s.maximum
        else:
            assert made["value"] == ("" if expected is None else str(expected))
        assert made["help"] == s.help


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_the_page_and_the_command_line_default_the_same_replications(study: str) -> None:
    declared = STUDIES[study]
    if declared.replications is None:
        return
    st = Recorder()
    replications_widget(st, declared, "reps", scenario_default=7)
    made = st.widgets["reps"]
    assert made["min_value"] == declared.replications.least
    assert made["value"] == (declared.replications.default or 7)
    act = next(a for a in subparser(study)._actions if a.dest == "replications")
    assert act.default is None and act.help == declared.replications.help.replace("%", "%%")


def sample(s: Setting) -> tuple[list[str], Any]:
    """A value for ``s`` as the command line types it and as the study should receive it."""
    if s.kind == "flag":
        return [s.option], True
    if s.choices:
        return [s.option, s.choices[-1]], s.choices[-1]
    if s.kind == "int":
        value = int(max(s.minimum or 0, 3))
        return [s.option, str(value)], value
    if s.kind == "float":
        value = (s.minimum or 0) + 0.5 * ((s.maximum if s.maximum is not None else 2.0) - (s.minimum or 0))
        return [s.option, repr(value)], value
    if s.kind == "texts":
        return [s.option, "a=1", s.option, "b=2"], ["a=1", "b=2"]
    if s.kind == "paths":
        return ["p1.yaml", "p2.yaml"], [Path("p1.yaml"), Path("p2.yaml")]
    if s.kind == "path":
        return [s.option, "f.csv"], Path("f.csv")
    return [s.option, "x@y"], "x@y"


def recording(monkeypatch: pytest.MonkeyPatch, declared: Study) -> list[dict[str, Any]]:
    """Replace the study's function by one that records what it is called with (same signature)."""
    calls: list[dict[str, Any]] = []

    @functools.wraps(declared.function)
    def record(source: Any, options: Any = None, **kwargs: Any) -> Any:
        kwargs = {k: v for k, v in kwargs.items() if k not in declared.callbacks}  # the face's own following
        calls.append({"source": Path(source), "replications": options.replications, **kwargs})
        return type(
            "Done", (), {"failures": [], "folder": None, "summary": None, "table": None, "evaluations": None}
        )()

    monkeypatch.setitem(registry._STUDIES, declared.name, dataclasses.replace(declared, function=record))
    return calls


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_the_command_line_and_the_api_pass_the_same_values(
    study: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every setting given once on the command line and once to the API reaches the study the same;
    none given, the study gets none (its own defaults apply) from either face."""
    declared = STUDIES[study]
    calls = recording(monkeypatch, declared)
    monkeypatch.setattr("sim.present.shows.show", lambda result, request: 0)
    monkeypatch.setattr(sim.api, "view", lambda name, result, summary: result)
    flags: list[str] = []
    positional: list[str] = []
    expected: dict[str, Any] = {}
    for s in declared.settings:
        typed, value = sample(s)
        (positional if s.flag == "" else flags).extend(typed)
        expected[s.name] = value
    reps = ["--replications", str(max(declared.replications.least, 3))] if declared.replications else []
    assert main([study, "scenario.yaml", *positional, *flags, *reps, "--results-root", str(tmp_path)]) == 0
    api = getattr(sim.api, declared.api_name)
    api("scenario.yaml", **expected, replications=int(reps[1]) if reps else None, root=tmp_path)
    cli_call, api_call = calls
    assert (
        cli_call
        == api_call
        == {"source": Path("scenario.yaml"), "replications": api_call["replications"], **expected}
    )
    # nothing optional given: neither face passes a value of its own
    required = [s for s in declared.settings if declared.default(s.name) is REQUIRED]
    needed = {s.name: expected[s.name] for s in required}
    typed = [w for s in required for w in sample(s)[0]]
    calls.clear()
    assert main([study, "scenario.yaml", *typed, "--results-root", str(tmp_path)]) == 0
    api("scenario.yaml", **needed, root=tmp_path)
    assert calls[0] == calls[1] == {"source": Path("scenario.yaml"), "replications": None, **needed}


@pytest.mark.parametrize(
    "study", sorted(s for s in STUDIES if any(x.kind in ("int", "float") for x in STUDIES[s].settings))
)
def test_a_value_outside_its_limits_is_refused_by_every_face(
    study: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below its minimum: a UserError naming the option from the API and exit code 2 from the command
    line, before the study is called."""
    declared = STUDIES[study]
    calls = recording(monkeypatch, declared)
    required = [s for s in declared.settings if declared.default(s.name) is REQUIRED]
    needed = {s.name: sample(s)[1] for s in required}
    typed = [w for s in required for w in sample(s)[0]]
    for s in (x for x in declared.settings if x.kind in ("int", "float") and x.minimum is not None):
        low = s.minimum - 1
        with pytest.raises(UserError, match=s.option):
            getattr(sim.api, declared.api_name)("scenario.yaml", **{**needed, s.name: low}, root=tmp_path)
        argv = [study, "scenario.yaml", *typed, s.option, str(low), "--results-root", str(tmp_path)]
        assert main(argv) == 2
    assert calls == []


def test_a_declaration_that_misses_a_setting_or_names_a_wrong_one_fails_at_once() -> None:
    def study_function(source: Any, options: Any = None, *, level: int = 3, depth: float = 1.0) -> None:
        """A study with two settings."""

    src = Setting("source", "path", "a scenario", flag="")
    with pytest.raises(TypeError, match="depth"):  # not declared
        Study("s", "a study", study_function, src, (Setting("level", "int", "the level"),))
    with pytest.raises(TypeError, match="height"):  # declared, not taken
        Study(
            "s",
            "a study",
            study_function,
            src,
            (Setting("level", "int", "l"), Setting("depth", "float", "d"), Setting("height", "int", "h")),
        )


NEW_STUDY = textwrap.dedent(
    '''
    """A study added as one module: the mean of an M/M/1 queue's sojourn time, 1/(mu - lambda)."""
    from __future__ import annotations

    from dataclasses import dataclass, field
    from pathlib import Path

    import pandas as pd

    from sim.errors import UserError
    from sim.studies.options import DEFAULTS, StudyOptions
    from sim.studies.registry import Replications, Setting, Study


    @dataclass
    class SojournResult:
        folder: Path | None
        summary: pd.DataFrame
        failures: list = field(default_factory=list)


    def sojourn(source, options: StudyOptions = DEFAULTS, *, arrival_rate: float = 0.5, service_rate=1.0):
        """1/(mu - lambda), refused when the queue is not stable."""
        if arrival_rate >= service_rate:
            raise UserError.single(None, "--arrival-rate", "must be below --service-rate")
        value = 1.0 / (service_rate - arrival_rate)
        return SojournResult(None, pd.DataFrame({"metric": ["mean_sojourn"], "value": [value]}))


    STUDY = Study(
        name="sojourn-check",
        help="the mean sojourn time of an M/M/1 queue",
        function=sojourn,
        source=Setting("source", "path", "any scenario", flag="", metavar="scenario"),
        settings=(
            Setting("arrival_rate", "float", "trucks an hour", minimum=0.0),
            Setting("service_rate", "float", "trucks an hour", minimum=0.0),
        ),
        shared=("format",),
        replications=None,
    )
    '''
)


def add_new_study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put :data:`NEW_STUDY` in a folder the studies package searches, as a user's new module would be,
    and let the registry read the declarations again (undone when the test ends)."""
    folder = tmp_path / "plugin"
    folder.mkdir()
    (folder / "zz_sojourn_check.py").write_text(NEW_STUDY, encoding="utf-8")
    monkeypatch.setattr(sim.studies, "__path__", [*sim.studies.__path__, str(folder)])
    monkeypatch.setattr(registry, "_STUDIES", {})
    monkeypatch.delitem(sys.modules, "sim.studies.zz_sojourn_check", raising=False)


def test_a_study_added_as_one_module_appears_in_every_face(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No edit in commands, app or api: the module alone gives the command, the function and the form."""
    add_new_study(tmp_path, monkeypatch)
    assert main(["sojourn-check", "any.yaml", "--arrival-rate", "0.75", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "mean_sojourn" in out and "4" in out
    result = sim.api.sojourn_check("any.yaml", arrival_rate=0.75)
    assert result.summary["value"].iloc[0] == pytest.approx(4.0)  # 1 / (1 - 0.75)
    assert main(["sojourn-check", "any.yaml", "--arrival-rate", "2"]) == 2  # the study's own refusal
    st = Recorder()
    form = study_form(st, registry.study("sojourn-check"), "new")
    assert form == {"arrival_rate": 0.5, "service_rate": 1.0}
    assert st.widgets["new_arrival_rate"]["min_value"] == 0.0
