"""The Python API: every study as a function, for a notebook or a script.

::

    import sim
    base = sim.run("scenarios/lang_son_minimal.yaml", replications=4, overrides=["run.horizon=168"])
    base.summary                      # mean and 95% interval of every metric, per gate and direction
    cmp = sim.compare("scenarios/lang_son_minimal.yaml", "my_policy.yaml", replications=4)
    cmp                               # in a notebook: the province's table with paired differences
    cmp.plot("headline")              # figure files, drawn from what was saved
    cmp.tables["my_policy"].table("trucks")   # a saved table, read when asked for

The functions are made from the study registry (:mod:`sim.studies.registry`): ``sim.<study>(scenario,
*positional settings, **settings and options)`` takes the study's own settings by their names (the
command line's options with underscores: ``min_effect``, ``final_replications``) and every
:class:`~sim.studies.options.StudyOptions` field (``replications``, ``overrides``, ``jobs``, ``root``,
``out``, ...), and returns an object with ``.summary``, ``.tables`` and ``.plot()``
(:mod:`sim.present.views`). The same studies, runner and results store as the command line: a comparison
made here reuses the replications a command made, and the other way round. Nothing prints; a mistake in
an input raises :class:`sim.errors.UserError` naming the file and field, and failed replications raise
:class:`ReplicationsFailed` (the finished ones are kept in the folder).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.groups import ALL
from sim.present.views import Backlog, Comparison, Run, StudyView, Sweep, view
from sim.studies.options import StudyOptions
from sim.studies.registry import REQUIRED, Study, studies, study

__all__ = [
    "Backlog",
    "Comparison",
    "ReplicationsFailed",
    "Run",
    "StudyOptions",
    "StudyView",
    "Sweep",
    "backlog",
    *sorted(s.api_name for s in studies().values()),
]


class ReplicationsFailed(RuntimeError):
    """Some replications failed in their workers; the finished ones are kept in ``folder``."""

    def __init__(self, failures: Sequence[Any], folder: Path, hint: str) -> None:
        self.failures = list(failures)
        self.folder = folder
        lines = [f"replication {f.replication} of {f.scenario} failed: {f.error}" for f in failures]
        super().__init__("\n".join([*lines, hint]))


OPTION_NAMES = frozenset(StudyOptions.__dataclass_fields__)


def _options(options: StudyOptions | None, given: dict[str, Any]) -> StudyOptions:
    """The study options: ``options`` as given, with any keyword options laid over it (``root`` may be a
    string; ``overrides`` any sequence). The one place the API turns keywords into options."""
    base = options if options is not None else StudyOptions()
    given = {k: v for k, v in given.items() if v is not None}
    return base.replace(**given) if given else base


def _one_collection(values: list[Any]) -> bool:
    """One list, tuple or mapping given for a many-valued setting (``sweep(s, {"run.warmup": [0, 24]})``)."""
    return len(values) == 1 and isinstance(values[0], Mapping | list | tuple)


def api_function(declared: Study) -> Callable[..., Any]:
    """``sim.<study>``: the study's settings and the study options as keywords, its positional settings
    (the policies of ``compare``, the grid of ``sweep``) after the scenario."""
    positional = [s for s in declared.settings if s.positional]

    def call(source: Any, *args: Any, options: StudyOptions | None = None, **keywords: Any) -> Any:
        settings = {k: v for k, v in keywords.items() if k in declared.defaults}
        unknown = set(keywords) - set(settings) - OPTION_NAMES
        if unknown:
            raise TypeError(f"{declared.api_name}() got unknown keyword(s): {', '.join(sorted(unknown))}")
        rest = list(args)
        for s in positional:
            if not rest:
                break
            if s.many and len(positional) == 1 and not _one_collection(rest):  # compare(base, *policies)
                settings[s.name] = list(rest)
                rest = []
            else:
                settings[s.name] = rest.pop(0)
        if rest:
            raise TypeError(
                f"{declared.api_name}() takes {len(positional)} positional setting(s) after the source"
            )
        opts = _options(options, {k: v for k, v in keywords.items() if k in OPTION_NAMES})
        result = study(declared.name).run(source, opts, **settings)  # as registered when called
        failures = getattr(result, "failures", None)
        if failures:
            hint = getattr(result, "resume_hint", "") or "Run it again to run only the rest."
            raise ReplicationsFailed(failures, getattr(result, "folder", Path()), hint)
        return view(declared.name, result, declared.summary_of(result))

    call.__name__ = call.__qualname__ = declared.api_name
    call.__doc__ = f"{declared.help[:1].upper()}{declared.help[1:]}.\n\n" + "\n".join(
        f"{s.name}: {s.help}" for s in declared.settings
    )
    params = [inspect.Parameter("source", inspect.Parameter.POSITIONAL_ONLY)]
    params += [
        inspect.Parameter(
            s.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=declared.default(s.name)
            if declared.default(s.name) is not REQUIRED
            else inspect.Parameter.empty,
        )
        for s in declared.settings
    ]
    params += [
        inspect.Parameter("options", inspect.Parameter.KEYWORD_ONLY, default=None),
        inspect.Parameter("option", inspect.Parameter.VAR_KEYWORD),
    ]
    call.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return call


for _study in studies().values():
    globals()[_study.api_name] = api_function(_study)


def backlog(
    run_folder: str | Path,
    *,
    gate: str = ALL,
    direction: str = ALL,
    count: str = "waiting",
    at: str = "12:00",
) -> Backlog:
    """A saved run's exact count of trucks (waiting, outside, in_yard or before_yard) day by day at
    ``at``, with 95% intervals over the replications, and each replication's exact peak."""
    from sim.studies.backlog import read_backlog

    r = read_backlog(run_folder, gate=gate, direction=direction, count=count, at=at)
    title = f"trucks {count} at {r.at_text}, {gate} / {direction} ({len(r.run.replications)} replications)"
    return Backlog(title, r.folder, r.days, r)


def __getattr__(name: str) -> Any:
    """A study registered after this module was imported (a plug-in study)."""
    found = {s.api_name: s for s in studies().values()}
    if name in found:
        return api_function(found[name])
    raise AttributeError(f"module 'sim.api' has no attribute {name!r}")
