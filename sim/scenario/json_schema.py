"""The JSON Schema of a scenario file and of a policy file, for editors that check YAML as it is typed.

Both come from the pydantic schema (:mod:`sim.scenario.schema`), so they cannot drift from what the loader
accepts; descriptions are the models' docstrings. A policy file overrides a base scenario a few keys at a
time (``extends: base.yaml``), so its schema is the scenario's with nothing required, the ``extends`` key
added, and any alternative allowed to match several branches (a partial distribution such as
``{mean: 2}`` fits more than one kind). Editors using yaml-language-server pick a schema from a first
line ``# yaml-language-server: $schema=<path or URL>``.

The loader remains the judge: cross-references (a stage naming a pool) and the ``hours`` shorthand are
checked there, with the file and line of every mistake.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from sim.scenario.schema import Scenario

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCENARIO_TITLE = "bordersim scenario"
POLICY_TITLE = "bordersim policy (a scenario file with 'extends')"
DATE_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$"
EXTENDS_DESCRIPTION = (
    "The base scenario this file changes, as a path relative to this file. Mappings merge key by key; "
    "any other value replaces the base's."
)


def _yaml_dates(node: Any) -> Any:
    """Date-times as YAML files write them: '2021-06-01', '2021-06-01 07:00' (JSON Schema's date-time
    format wants '2021-06-01T07:00:00Z')."""
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            node = {k: v for k, v in node.items() if k != "format"}
            node["pattern"] = DATE_TIME_PATTERN
        return {k: _yaml_dates(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_yaml_dates(v) for v in node]
    return node


STATE_DESCRIPTION = (
    "A CSV state file of the trucks waiting at run.start (columns gate, direction, count; optional class, "
    "where, waited_h or arrived), as a path relative to this file (see sim/scenario/state.py)."
)


def _state_as_file(schema: dict[str, Any]) -> dict[str, Any]:
    """``run.initial_state`` as a file writes it: a path (the loader reads the file into its rows)."""
    defs = schema.get("$defs", {})
    run = defs.get("Run", {}).get("properties", {})
    if "initial_state" in run:
        run["initial_state"] = {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
            "title": "Initial State",
            "description": STATE_DESCRIPTION,
        }
        defs.pop("InitialState", None)
        defs.pop("StateGroup", None)
    return schema


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema a complete scenario file (without ``extends``) meets."""
    schema = _state_as_file(_yaml_dates(Scenario.model_json_schema(mode="validation")))
    return {"$schema": DRAFT, "title": SCENARIO_TITLE, **{k: v for k, v in schema.items() if k != "title"}}


def _nullable(node: Any) -> Any:
    return {"anyOf": [node, {"type": "null"}]} if isinstance(node, dict) else node


def _relax(node: Any) -> Any:
    """Nothing required, alternatives as anyOf and ``null`` allowed for every key (a policy removes a
    stage or a cap with ``null``), at every level of a schema."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("required", "discriminator"):  # discriminator: OpenAPI's, misleading when partial
                continue
            if key == "properties":
                out[key] = {name: _nullable(_relax(v)) for name, v in value.items()}
            elif key == "additionalProperties":
                out[key] = _nullable(_relax(value))
            else:
                out["anyOf" if key == "oneOf" else key] = _relax(value)
        return out
    if isinstance(node, list):
        return [_relax(v) for v in node]
    return node


def policy_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file: every scenario field optional, plus ``extends``."""
    schema = _relax(copy.deepcopy(scenario_schema()))
    schema["title"] = POLICY_TITLE
    schema["properties"] = {
        "extends": {"type": "string", "title": "Extends", "description": EXTENDS_DESCRIPTION},
        **schema["properties"],
    }
    return schema


def schema_text(policy: bool = False) -> str:
    """A schema as the JSON text committed under docs/schema/ (sorted keys, two-space indents)."""
    return json.dumps(policy_schema() if policy else scenario_schema(), indent=2, sort_keys=True) + "\n"
