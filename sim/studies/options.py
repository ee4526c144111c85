"""The study contract: one frozen options object for every study, and one way to name a scenario.

Every study (run, compare, sweep, calibrate, history, optimise, sensitivity, uncertainty, forecast) is a
function ``study(source, options, **its own settings) -> result``: ``source`` is a scenario file or an
already loaded scenario, ``options`` the :class:`StudyOptions` below. The command line builds the options
from its shared flags (``sim.commands.options.study_options``) and the Python API from keyword arguments
(``StudyOptions(replications=4, overrides=("run.horizon=168",))``), so the two cannot drift apart, and no
study lists these options again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import UserError
from sim.runner.backends import check_backend
from sim.runner.progress import Bar, Monitor, Tally
from sim.scenario import LoadedScenario, Scenario, load_scenario
from sim.store.layout import DEFAULT_ROOT, check_out

if TYPE_CHECKING:
    from sim.runner.backends import Backend

__all__ = ["DEFAULTS", "Bar", "Monitor", "ScenarioSource", "StudyOptions", "Tally", "load_source"]

ScenarioSource = str | Path | LoadedScenario
"""A scenario file's path, or a scenario already loaded (its files and overrides kept for manifests)."""


@dataclass(frozen=True)
class StudyOptions:
    """What every study takes besides its own settings.

    ``replications`` and ``seed`` default to the scenario's ``run`` section; ``out`` is a folder the user
    chose, ``label`` a name under the results root (checked by the store); ``backend`` wins over ``jobs``
    and ``dask``; ``monitor`` receives progress (the terminal's bars, the page's job file, or nothing);
    ``argv`` is the command that asked, for manifests.
    """

    seed: int | None = None
    replications: int | None = None
    jobs: int | None = None
    dask: str | None = None
    backend: Backend | None = field(default=None, compare=False)
    out: Path | None = None
    label: str | None = None
    root: Path = DEFAULT_ROOT
    overrides: tuple[str, ...] = ()
    max_trucks: int | None = None
    resume: bool = False
    force: bool = False
    monitor: Monitor | None = field(default=None, compare=False)
    argv: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept any sequence of overrides and any path-like, but keep the object hashable and frozen.
        object.__setattr__(self, "overrides", tuple(self.overrides))
        object.__setattr__(self, "argv", tuple(self.argv))
        object.__setattr__(self, "root", Path(self.root))
        if self.out is not None:  # never inside another results folder (checked before any work)
            object.__setattr__(self, "out", check_out(Path(self.out)))
        if self.seed is not None and self.seed < 0:
            raise UserError.single(None, "--seed", f"must be a non-negative integer (got {self.seed})")

    def replace(self, **changes: Any) -> StudyOptions:
        """A copy with some options changed (the object itself never changes)."""
        return dataclasses.replace(self, **changes)

    def check_replications(self, least: int = 1) -> None:
        """Refuse fewer than ``least`` replications (a UserError naming the option)."""
        if self.replications is not None and self.replications < least:
            why = " (a confidence interval needs two)" if least == 2 else ""
            raise UserError.single(
                None, "--replications", f"must be at least {least}{why} (got {self.replications})"
            )

    def root_seed(self, scenario: Scenario) -> int:
        """The root seed: the option, or the scenario's ``run.seed``."""
        return scenario.run.seed if self.seed is None else self.seed

    def replications_for(self, scenario: Scenario, default: int | None = None) -> int:
        """The replications asked for, else ``default``, else the scenario's ``run.replications``."""
        if self.replications is not None:
            return self.replications
        return default if default is not None else scenario.run.replications

    def resolved_backend(self) -> Backend:
        """The backend asked for: ``backend`` as given, else ``--jobs``/``--dask`` (validated)."""

        return self.backend if self.backend is not None else check_backend(self.jobs, self.dask)


def load_source(source: ScenarioSource, overrides: Sequence[str] = ()) -> LoadedScenario:
    """The scenario a study runs: a file loaded (``extends`` and ``overrides`` applied, validated), or a
    loaded scenario, reloaded from its own file with the extra overrides when there are any."""
    if isinstance(source, LoadedScenario):
        if not overrides:
            return source
        return load_scenario(source.path, [*source.overrides, *overrides])
    return load_scenario(source, list(overrides))


DEFAULTS = StudyOptions()
"""Every option at its default: the Python API's and the tests' starting point."""
