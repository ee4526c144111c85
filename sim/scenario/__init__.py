"""Scenario files: schema (pydantic) and loader (YAML, extends, overrides)."""

from sim.scenario.loader import LoadedScenario, load_scenario, resolved_yaml
from sim.scenario.schema import Scenario

__all__ = ["LoadedScenario", "Scenario", "load_scenario", "resolved_yaml"]
