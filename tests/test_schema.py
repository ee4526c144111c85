"""``bordersim schema``: the committed JSON Schemas are current, and every committed scenario meets them
(read as an editor reads YAML: dates as text, 4.27e9 as a number), while a typo does not."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sim.cli import main
from sim.scenario.json_schema import schema_text
from tests.conftest import ROOT, SCENARIOS

SCHEMAS = ROOT / "docs" / "schema"
FILES = sorted(SCENARIOS.rglob("*.yaml")) + sorted((ROOT / "tests" / "data").glob("*.yaml"))


class EditorLoader(yaml.SafeLoader):
    """YAML as yaml-language-server reads it (YAML 1.2): no timestamps, '4.27e9' is a float."""


EditorLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
EditorLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def committed(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("policy", [False, True], ids=["scenario", "policy"])
def test_committed_schemas_are_current(policy: bool) -> None:
    name = "policy.json" if policy else "scenario.json"
    assert (SCHEMAS / name).read_text(encoding="utf-8") == schema_text(policy), (
        f"docs/schema/{name} is stale: rerun bordersim schema {'--policy' if policy else ''} --out FILE"
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_committed_scenario_meets_its_schema(path: Path) -> None:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=EditorLoader)
    schema = committed("policy.json" if "extends" in data else "scenario.json")
    errors = [
        f"{list(e.absolute_path)}: {e.message[:200]}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(data)
    ]
    assert not errors, errors


@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_the_schemas_catch_mistakes_and_describe_fields() -> None:
    scenario, policy = committed("scenario.json"), committed("policy.json")
    jsonschema.Draft202012Validator.check_schema(scenario)
    jsonschema.Draft202012Validator.check_schema(policy)
    data = yaml.load((SCENARIOS / "lang_son_minimal.yaml").read_text(encoding="utf-8"), Loader=EditorLoader)
    assert jsonschema.Draft202012Validator(scenario).is_valid(data)
    typo = {**data, "run": {**data["run"], "horizn": 72}}
    assert not jsonschema.Draft202012Validator(scenario).is_valid(typo)
    assert not jsonschema.Draft202012Validator(scenario).is_valid({"name": "x"})  # gates etc. required
    assert jsonschema.Draft202012Validator(policy).is_valid({"extends": "base.yaml", "name": "x"})
    assert not jsonschema.Draft202012Validator(policy).is_valid({"extends": "base.yaml", "gatez": {}})
    assert "extends" in policy["properties"]
    assert "When a stage serves" in scenario["$defs"]["Hours"]["description"]  # docstrings become hover text


def test_schema_command_writes_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--policy", "--out", str(tmp_path / "p.json")]) == 0
    assert (tmp_path / "p.json").read_text(encoding="utf-8") == schema_text(policy=True)
    assert "yaml-language-server" in capsys.readouterr().err  # the editor line, beside the data
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "bordersim scenario"
