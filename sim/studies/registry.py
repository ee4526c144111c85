"""The study registry: each study declares its settings once, and the faces are made from that.

A study is one module of :mod:`sim.studies` that ends with a ``STUDY = Study(...)`` declaration: the
function that runs it into a folder, its settings (type, help in a planner's words, limits), and the rule
for its replications. A setting's default is the study function's own keyword default, read from its
signature, so it lives in one place. The command line's sub-command (:mod:`sim.commands.studies`), the
Python API's function (:mod:`sim.api`) and the page's form (:mod:`sim.app.study_form`) are generated from
these declarations; ``tests/test_registry.py`` proves that the three agree on every setting of every
study. Adding a study is one module and its tests (docs/architecture.md, section 4).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sim.errors import UserError
from sim.studies.options import DEFAULTS, ScenarioSource, StudyOptions

Kind = Literal["int", "float", "text", "path", "flag", "texts", "paths"]
"""What a setting holds: a whole number, a number, a word or expression, a file, on/off, or several
words (repeatable) or files."""

REQUIRED = inspect.Parameter.empty
"""The default of a setting the user must give (a keyword without a default in the study function)."""

SHARED = ("seed", "parallel", "overrides", "root", "format", "out", "label", "resume", "force", "max_trucks")
"""The options every study may take besides its own settings (fields of :class:`StudyOptions`, and the
face's output format); a study names the ones it takes."""


@dataclass(frozen=True)
class Setting:
    """One setting of a study: the study function's keyword ``name``, what it holds and how a planner
    reads it. ``flag`` is the command line's option (default ``--name-with-dashes``; ``""`` makes it a
    positional argument); ``positional`` settings come right after the scenario in the API too."""

    name: str
    kind: Kind
    help: str
    flag: str | None = None
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    positional: bool = False
    page: bool = True  # offered on the page's form (files and free expressions are typed on the page too)
    group: str = ""  # a heading for related settings in --help

    @property
    def option(self) -> str:
        """How the command line spells it (the name a message names)."""
        if self.flag == "":
            return self.name.upper()
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def many(self) -> bool:
        """Several values (a repeatable option, or several files)."""
        return self.kind in ("texts", "paths")

    def check(self, value: Any) -> Any:
        """``value`` inside the declared limits and choices, else a UserError naming the option."""
        if value is None or value is REQUIRED:
            return value
        values = list(value) if self.many else [value]
        for v in values:
            if self.choices and str(v) not in self.choices:
                raise UserError.single(
                    None, self.option, f"choose from {', '.join(self.choices)} (got {v!r})"
                )
            if self.kind in ("int", "float"):
                if self.minimum is not None and v < self.minimum:
                    raise UserError.single(None, self.option, f"must be at least {self.minimum:g} (got {v})")
                if self.maximum is not None and v > self.maximum:
                    raise UserError.single(None, self.option, f"must be at most {self.maximum:g} (got {v})")
        return value


POLICIES = Setting(
    "policies",
    "paths",
    "policy YAML files (extends: SCENARIO)",
    flag="",
    metavar="POLICY",
    positional=True,
    page=False,
)
"""Policy files after the scenario, none or several: a setting forecast and assimilate share."""


@dataclass(frozen=True)
class Replications:
    """A study's replications: ``default`` when the user gives none (None: the scenario's
    ``run.replications``), the fewest it accepts, and the rule in words for help texts."""

    default: int | None = None
    least: int = 1
    per: str = "replications"  # what they are counted over, e.g. "replications per input set"
    rule: str = ""  # the default in words when it is not a plain number

    @property
    def help(self) -> str:
        """The replications' help text, with the default."""
        default = self.rule or (f"{self.default}" if self.default is not None else "the scenario's")
        return f"{self.per} (default: {default})"


@dataclass(frozen=True)
class Study:
    """A study's declaration; see the module docstring."""

    name: str  # the command's name (the API's function: dashes as underscores)
    help: str
    function: Callable[..., Any]
    source: Setting  # the scenario (or folder) the study starts from
    settings: tuple[Setting, ...] = ()
    shared: tuple[str, ...] = (
        "seed",
        "parallel",
        "overrides",
        "root",
        "format",
        "out",
        "label",
        "max_trucks",
    )
    replications: Replications | None = Replications()
    description: str = ""  # a longer text for --help (kept as written)
    order: int = 100  # where the command is listed in --help (lower first)
    callbacks: tuple[str, ...] = ()  # keywords a face may pass to follow the work (e.g. on_step)
    summary_of: Callable[[Any], Any] = field(default=lambda result: result.summary)
    defaults: Mapping[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.shared) - set(SHARED)
        if unknown:
            raise TypeError(f"study {self.name}: unknown shared options {sorted(unknown)}")
        params = inspect.signature(self.function).parameters
        names = [s.name for s in self.settings]
        missing = [n for n in names if n not in params]
        if missing:
            raise TypeError(f"study {self.name}: {self.function.__name__} takes no {missing}")
        skipped = [
            p.name
            for p in list(params.values())[1:]
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.name not in (*names, "options", *self.callbacks)
        ]
        if skipped:
            raise TypeError(f"study {self.name}: settings {skipped} of {self.function.__name__} not declared")
        object.__setattr__(self, "defaults", {n: params[n].default for n in names})

    @property
    def api_name(self) -> str:
        """The API's function name (``validate-history`` is ``sim.validate_history``)."""
        return self.name.replace("-", "_")

    def setting(self, name: str) -> Setting:
        """One declared setting by its name."""
        return next(s for s in self.settings if s.name == name)

    def default(self, name: str) -> Any:
        """The setting's default (:data:`REQUIRED` when the user must give it)."""
        return self.defaults[name]

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The settings to run with: each given value checked against its limits, the rest at their
        defaults; a missing required setting or an unknown name is a UserError naming the option."""
        unknown = set(given) - set(self.defaults)
        if unknown:
            raise UserError.single(None, sorted(unknown)[0], f"not a setting of {self.name}")
        values: dict[str, Any] = {}
        for s in self.settings:
            value = given.get(s.name, REQUIRED)
            if value is REQUIRED or (value is None and self.defaults[s.name] is REQUIRED):
                if self.defaults[s.name] is REQUIRED:
                    raise UserError.single(None, s.option, f"{self.name} needs it: {s.help}")
                continue  # the function's own default applies
            values[s.name] = s.check(value)
        return values

    def run(
        self,
        source: ScenarioSource,
        options: StudyOptions = DEFAULTS,
        callbacks: Mapping[str, Any] | None = None,
        **given: Any,
    ) -> Any:
        """Run the study into its folder: the result object its function returns."""
        if self.replications is not None:
            options.check_replications(self.replications.least)
        return self.function(source, options=options, **self.resolve(given), **(callbacks or {}))


def _declared() -> dict[str, Study]:
    """Every ``STUDY`` declared by a module of :mod:`sim.studies`, by name (imported once, in order)."""
    import sim.studies as package

    found: dict[str, Study] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name == "registry":
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        study = getattr(module, "STUDY", None)
        if isinstance(study, Study):
            if study.name in found:
                raise TypeError(f"two studies named {study.name}")
            found[study.name] = study
    return found


_STUDIES: dict[str, Study] = {}


def studies() -> dict[str, Study]:
    """The registered studies by name (the command's name)."""
    if not _STUDIES:
        _STUDIES.update(sorted(_declared().items(), key=lambda item: (item[1].order, item[0])))
    return dict(_STUDIES)


def study(name: str) -> Study:
    """One registered study by its command name or API name."""
    found = studies()
    key = name.replace("_", "-") if name.replace("_", "-") in found else name
    if key not in found:
        raise KeyError(name)
    return found[key]
