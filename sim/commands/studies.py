"""Every registered study as a sub-command, generated from its declaration (:mod:`sim.studies.registry`).

One handler runs them all: the settings are read from the parsed options by name, the study runs with
the terminal's progress bars, and :func:`sim.present.shows.show` prints its result. A study added to
:mod:`sim.studies` appears here without an edit.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.commands.options import Parents, size_option, study_options

if TYPE_CHECKING:  # the registry is read when the parser is built, not when --version is asked
    from sim.studies.registry import Setting, Study

TYPES: dict[str, Any] = {"int": int, "float": float, "text": str, "path": Path, "texts": str, "paths": Path}

SHARED_HELP = {
    "out": "the study's folder (default: results/<scenario>/<study>-<time>)",
    "label": "name the folder under results/<scenario>/ (default: the time)",
    "resume": "finish the study in --out/--label: run only what is missing",
    "force": "overwrite the output file if it exists",
}


def register(sub: argparse._SubParsersAction, p: Parents) -> None:
    """Add a sub-command for every registered study."""
    from sim.studies.registry import studies

    for declared in studies().values():
        add_study(sub, p, declared)


def add_study(sub: argparse._SubParsersAction, p: Parents, declared: Study) -> argparse.ArgumentParser:
    """The sub-command of one study: its source, its settings, the shared options it takes."""
    shared = set(declared.shared)
    parents = [
        group
        for name, group in (
            ("seed", p.seed),
            ("parallel", p.parallel),
            ("overrides", p.overrides),
            ("root", p.root),
            ("format", p.output),
        )
        if name in shared
    ]
    extra = {"description": declared.description} if declared.description else {}
    if declared.description:
        extra["formatter_class"] = argparse.RawDescriptionHelpFormatter  # type: ignore[assignment]
    cmd = sub.add_parser(
        declared.name,
        parents=parents,
        help=escape(declared.help),
        **extra,  # type: ignore[arg-type]
    )
    cmd.add_argument("source", type=Path, metavar=declared.source.metavar, help=escape(declared.source.help))
    groups: dict[str, Any] = {}
    for s in declared.settings:
        target = cmd if not s.group else groups.setdefault(s.group, cmd.add_argument_group(s.group))
        add_setting(target, s, declared.default(s.name))
    if declared.replications is not None:
        cmd.add_argument("--replications", type=int, metavar="N", help=declared.replications.help)
    for name in ("out", "label"):
        if name in shared:
            cmd.add_argument(f"--{name}", type=Path if name == "out" else str, help=SHARED_HELP[name])
    for name in ("resume", "force"):
        if name in shared:
            cmd.add_argument(f"--{name}", action="store_true", help=SHARED_HELP[name])
    if "max_trucks" in shared:
        size_option(cmd)
    cmd.set_defaults(handler=run_study, study_command=declared.name)
    return cmd


def add_setting(parser: Any, s: Setting, default: Any) -> None:
    """One setting as an argument: its flag, type, choices and help (with its default, when it has one).
    The parsed value is left None when not given, so that the study's own default applies."""
    from sim.studies.registry import REQUIRED

    said = "default" in s.help or default in (None, (), REQUIRED, False)
    kwargs: dict[str, Any] = {"help": escape(s.help if said else f"{s.help} (default {default})")}
    if s.metavar or s.kind in ("int", "float"):
        kwargs["metavar"] = s.metavar or "N"
    if s.choices:
        kwargs["choices"] = list(s.choices)
    if s.flag == "":  # a positional argument: the policies after the scenario
        nargs = "+" if default is REQUIRED else "*"
        parser.add_argument(s.name, type=TYPES[s.kind], nargs=nargs if s.many else None, **kwargs)
        return
    if s.kind == "flag":
        parser.add_argument(s.option, dest=s.name, action="store_true", default=None, **kwargs)
    elif s.many:
        parser.add_argument(s.option, dest=s.name, type=TYPES[s.kind], action="append", **kwargs)
    else:
        parser.add_argument(s.option, dest=s.name, type=TYPES[s.kind], **kwargs)


def escape(text: str) -> str:
    """Help text as argparse reads it (a percent sign doubled)."""
    return text.replace("%", "%%")


def given_settings(args: argparse.Namespace, declared: Study) -> dict[str, Any]:
    """The settings the user gave (None and unset ones are left to the study's defaults)."""
    values = {s.name: getattr(args, s.name, None) for s in declared.settings}
    return {name: value for name, value in values.items() if value is not None and value != []}


def run_study(args: argparse.Namespace) -> int:
    """Run the study the command names and print its result (the exit code the printer gives)."""
    from sim.present import shows, terminal
    from sim.studies.registry import study

    declared = study(args.study_command)
    given = given_settings(args, declared)
    callbacks = (
        {"on_step": lambda line: terminal.say(line, err=True)} if "on_step" in declared.callbacks else {}
    )
    with terminal.ProgressBars() as bars:
        result = declared.run(args.source, study_options(args, bars), callbacks, **given)
    request = shows.Request(
        study=declared.name,
        source=args.source,
        settings=given,
        fmt=getattr(args, "fmt", "table"),
        overrides=tuple(getattr(args, "overrides", ()) or ()),
        argv=tuple(args.command_argv),
    )
    return shows.show(result, request)
