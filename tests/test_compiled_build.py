"""The compiled build gives the very tables of the interpreted one (issue 32, items 2-3).

With the core compiled (``BORDERSIM_COMPILE=1``, see setup.py), every committed scenario and every rule
and lever of ``tests/data/rules.yaml`` (hours, closures, bans, caps, priorities, green lanes, return trips,
reneging with diversion, patience as a hazard, dated changes, upstream holding, rail, route choice) is run
here, compiled, and in a second Python on a copy of the sources without any compiled file, interpreted;
every table's digest must match. Skipped when the core is not compiled. Also: ``--version`` and the
manifest name the build, and the model digest covers the compiled files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim import version
from tests.conftest import ROOT, SCENARIOS
from tests.golden.tables import short_run
from tests.test_kernel_identical import RULE_VARIANTS, RULES

COMPILED = version.build() == "compiled with mypyc"


def cases() -> list[tuple[str, str, list[str]]]:
    """(name, scenario path, overrides): every committed scenario cut short, and every rule variant."""
    out = []
    for path in sorted(SCENARIOS.rglob("*.yaml")):
        rel = path.relative_to(SCENARIOS).as_posix()
        out.append((rel, str(path), short_run(path, 1000 if rel.startswith("examples") else 336)))
    out += [
        (f"rules:{name}", str(RULES), list(overrides)) for name, overrides in sorted(RULE_VARIANTS.items())
    ]
    return out


DIGESTS = """
import json, sys
from sim.model import run_replication
from sim.model.random_streams import replication_seed
from sim.scenario import load_scenario
from tests.golden.tables import table_digest
out = {}
for name, path, overrides in json.loads(sys.stdin.read()):
    tables = run_replication(load_scenario(path, overrides).scenario, replication_seed(7, 0))
    out[name] = {t: table_digest(df) for t, df in tables.as_dict().items()}
print(json.dumps(out))
"""


def digests(python_path: Path) -> dict[str, dict[str, str]]:
    """Every case's table digests, computed by a Python that imports ``sim`` from ``python_path``."""
    done = subprocess.run(
        [sys.executable, "-c", DIGESTS],
        input=json.dumps(cases()),
        capture_output=True,
        text=True,
        cwd=python_path,
        env={"PYTHONPATH": f"{python_path}:{ROOT}", "PATH": "/usr/bin:/bin"},
        timeout=3600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.skipif(not COMPILED, reason=f"the core is not compiled here ({version.build()}): see setup.py")
def test_compiled_tables_equal_interpreted_tables_on_every_scenario_and_lever(tmp_path: Path) -> None:
    pure = tmp_path / "pure"
    shutil.copytree(ROOT / "sim", pure / "sim", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    interpreted = digests(pure)
    compiled = digests(ROOT)
    assert set(compiled) == {name for name, _, _ in cases()}
    differ = {
        name: sorted(t for t in compiled[name] if compiled[name][t] != interpreted[name][t])
        for name in compiled
    }
    assert not {k: v for k, v in differ.items() if v}, differ


def test_version_and_manifest_name_the_build() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sim", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0 and f"({version.build()})" in done.stdout
    from sim.store.manifest import versions

    assert versions()["build"] == version.build()
    assert version.build() in ("interpreted", "compiled with mypyc")  # never a stale, partial build


def test_the_model_digest_covers_compiled_files(monkeypatch, tmp_path: Path) -> None:
    """A compiled file that changes changes the digest, though no source did (a stale .so cannot hide);
    read uncached (the digest is computed once a process)."""
    from sim.store import manifest

    fake = tmp_path / "trucks.cpython-311-x86_64-linux-gnu.so"
    fake.write_bytes(b"one build")
    monkeypatch.setattr(manifest, "compiled_files", lambda: [str(fake)])
    first = manifest.model_digest.__wrapped__()
    fake.write_bytes(b"another build")
    assert manifest.model_digest.__wrapped__() != first
    monkeypatch.setattr(manifest, "compiled_files", lambda: [])
    assert manifest.model_digest.__wrapped__() != first
