"""The page's panel for any study (issue 28): every registered study gets its form from its declaration,
the command it shows is one the command line accepts, and a study added as one module runs from it."""

from __future__ import annotations

import functools
import shlex
from pathlib import Path
from typing import Any

import pytest

from sim.app.study_panel import panel
from sim.cli import build_parser
from sim.studies import registry
from tests.conftest import SCENARIOS
from tests.test_registry import add_new_study


class Page:
    """Streamlit's widgets, answering with the choices given (else each widget's default)."""

    def __init__(self, choose: dict[str, Any] | None = None, press: bool = False) -> None:
        self.choose = choose or {}
        self.press = press
        self.shown: dict[str, list[Any]] = {}

    def _widget(self, kind: str, label: str, *args: Any, **kwargs: Any) -> Any:
        key = kwargs.get("key", label)
        if key in self.choose:
            return self.choose[key]
        if kind == "selectbox":
            return args[0][kwargs.get("index", 0)]
        if kind == "button":
            return self.press
        if kind in ("text_input", "text_area"):
            return kwargs.get("value", "")
        return kwargs.get("value")

    def _show(self, kind: str, *args: Any, **kwargs: Any) -> None:
        self.shown.setdefault(kind, []).append(args[0] if args else None)

    def __getattr__(self, kind: str) -> Any:
        if kind in ("selectbox", "button", "number_input", "text_input", "text_area", "checkbox"):
            return functools.partial(self._widget, kind)
        return functools.partial(self._show, kind)


@pytest.mark.parametrize("name", sorted(registry.studies()))
def test_every_study_has_a_form_and_its_command_parses(name: str, tmp_path: Path) -> None:
    page = Page({"any_study": name})
    assert panel(page, SCENARIOS, tmp_path) is None  # not pressed: nothing runs
    command = page.shown["code"][-1]
    words = shlex.split(command)
    assert words[:2] == ["bordersim", name]
    args = build_parser().parse_args(words[1:])  # the command line accepts what the page shows
    assert args.study_command == name


def test_a_study_added_as_one_module_runs_from_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_new_study(tmp_path, monkeypatch)
    page = Page({"any_study": "sojourn-check", "any_sojourn-check_arrival_rate": 0.75}, press=True)
    result = panel(page, SCENARIOS, tmp_path)
    assert result.summary["value"].iloc[0] == pytest.approx(4.0)  # 1 / (1 - 0.75)
    assert "--arrival-rate 0.75" in page.shown["code"][-1]
    refused = Page({"any_study": "sojourn-check", "any_sojourn-check_arrival_rate": 2.0}, press=True)
    assert panel(refused, SCENARIOS, tmp_path) is None
    assert "must be below" in refused.shown["error"][0]
