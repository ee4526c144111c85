"""Property-based: the scenario loader and ``--set`` against random and hostile documents (issue 13),
and results folders' manifests, observation files and the ``--grid``, ``--replications`` and ``--label``
arguments (issue 24).

Whatever a document or an override says (wrong types, huge or non-finite numbers, impossible dates,
aliases, deep nesting, unicode, binary), ``bordersim validate`` ends with exit 0 (a valid scenario) or
exit 2 and short messages; never a traceback, never a hang, never a file written. Likewise ``list`` and
``summary`` of a folder whose manifest says anything, the observations reader on any file, and ``run`` /
``sweep`` with any label, count or grid. Examples are bounded and derandomized (the same examples on
every run, so CI is reproducible) and take a few seconds.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shutil
import tempfile
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.scenario import load_scenario
from tests.conftest import SCENARIOS

settings.register_profile(
    "bordersim-fuzz",
    max_examples=200,
    derandomize=True,  # the same examples every run: a failure in CI is a failure on every machine
    database=None,
    deadline=None,  # bounded below by our own clock, which also counts the first (cold) example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile("bordersim-fuzz")
# A bound on the work one example may take (an alias bomb or a quadratic parse would exceed it), counted
# in this process's CPU seconds: a wall clock also counts the other processes of a busy machine (a 0.07 s
# validation once read 19.5 s on the wall at load 5 with CI reniced), and would fail for them, not for us.
SECONDS_PER_EXAMPLE = 5.0
MESSAGE_LIMIT = 4000  # characters of stderr: a few problems, never megabytes

BASE_TEXT = (SCENARIOS / "examples" / "mmc.yaml").read_text()
BASE: dict[str, Any] = yaml.safe_load(BASE_TEXT)
WORK = Path(tempfile.mkdtemp(prefix="bordersim-fuzz-"))


def _paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, str(key)))
    return out


PATHS = _paths(BASE)
LAUGHS = "\n".join(
    ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
)
RAW = [  # YAML text a value may be replaced with
    "[" * 400 + "]" * 400,
    "{a: " * 300 + "1" + "}" * 300,
    "*undefined_alias",
    "&x [1, *x]",
    "!!python/object/apply:os.system ['echo pwned']",
    "!!binary aGVsbG8=",
    ".inf",
    "-.inf",
    ".nan",
    "1e400",
    "9" * 5000,
    "2021-02-30",
    "2021-13-01",
    "9999-12-31T23:00:00",
    "0001-01-01",
    "2021-01-01T00:00:00+07:00",
    "{a: 1, a: 2}",
    "0x7fffffffffffffffffff",
    "'\\x00'",
    '"\\ud800"',
    "~",
    "[]",
    "{}",
    "'../../escaped'",
    "/etc/passwd",
    "''",
    "'\u202e\u0000\U0001f600'",
    "*l8",  # with the laughs' anchors at the top of the document
]
scalars = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),  # any unicode, surrogates and controls included
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(UTC)),
)
values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
    max_leaves=15,
)


def _set(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _tree(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def _command(args: list[str], folder: Path, codes: tuple[int, ...] = (0, 2)) -> tuple[int, str, str]:
    """Run ``bordersim ARGS`` in-process from ``folder``; the exit code, stdout and stderr, checked for the
    invariants: a known exit code, no traceback, short messages, quick, nothing written under ``folder``."""
    before = _tree(folder)
    cwd = os.getcwd()
    err, out = io.StringIO(), io.StringIO()
    t0 = time.process_time()
    try:
        os.chdir(folder)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = main(args)  # an exception other than a clean exit fails the test here
            except SystemExit as exc:  # argparse's own refusal of an option's value
                code = int(exc.code or 0)
    finally:
        os.chdir(cwd)
    seconds = time.process_time() - t0
    text = err.getvalue()
    assert seconds < SECONDS_PER_EXAMPLE, f"took {seconds:.1f} s of CPU"
    assert code in codes, (code, text[-500:])
    assert "Traceback" not in text
    assert len(text) < MESSAGE_LIMIT, f"{len(text)} characters of messages"
    if code == 2 and not text.startswith("usage:"):
        assert text.startswith("error:"), text[:200]
    assert _tree(folder) == before, "a file was written"
    return code, out.getvalue(), text


def _validate(args: list[str], folder: Path) -> tuple[int, str]:
    """Run ``bordersim validate`` in-process; the exit code and stderr, checked for the invariants."""
    code, _, text = _command(["validate", *args], folder)
    return code, text


def _document(folder: Path, text: str | bytes) -> Path:
    path = folder / "scenario.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


@FUZZ
@given(st.sampled_from(PATHS), values)
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_field_replaced_by_any_value(path: tuple[str, ...], value: Any) -> None:
    doc = yaml.safe_load(BASE_TEXT)
    _set(doc, path, value)
    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except (yaml.YAMLError, UnicodeEncodeError):
        text = yaml.safe_dump(doc, allow_unicode=False)
    folder = Path(tempfile.mkdtemp(dir=WORK))
    _validate([str(_document(folder, text))], folder)


@FUZZ
@given(st.sampled_from(PATHS), st.sampled_from(RAW))
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_a_field_replaced_by_hostile_yaml(path: tuple[str, ...], raw: str) -> None:
    doc = yaml.safe_load(BASE_TEXT)
    _set(doc, path, "__RAW__")
    text = yaml.safe_dump(doc).replace("__RAW__", raw)
    if raw.startswith("*l"):  # the laughs' anchors go first (each example with them is refused)
        text = LAUGHS + "\n" + text
    folder = Path(tempfile.mkdtemp(dir=WORK))
    _validate([str(_document(folder, text))], folder)


@FUZZ
@given(
    st.one_of(st.sampled_from(PATHS).map(".".join), st.text(max_size=30)),
    st.one_of(st.sampled_from(RAW[:-1]), st.text(max_size=60)),
)
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_any_override(key: str, raw: str) -> None:
    folder = Path(tempfile.mkdtemp(dir=WORK))
    scenario = _document(folder, BASE_TEXT)
    _validate([str(scenario), f"--set={key}={raw}"], folder)


@FUZZ
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
@pytest.mark.slow  # over 1.4 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_any_document(text: str | bytes) -> None:
    folder = Path(tempfile.mkdtemp(dir=WORK))
    _validate([str(_document(folder, text))], folder)


def test_the_base_document_itself_is_valid() -> None:
    """The mutations start from a valid scenario: without them, validate accepts it."""
    folder = Path(tempfile.mkdtemp(dir=WORK))
    assert _validate([str(_document(folder, BASE_TEXT))], folder)[0] == 0


# ---- results folders: a manifest that says anything ---------------------------------------------------
EDGE_NUMBERS = st.sampled_from([2**63, 2**128, -(2**63) - 1, 10**30, -1, 0, 1e308, -0.5, 2.5, "2"])
json_values = st.recursive(
    st.none()
    | st.booleans()
    | EDGE_NUMBERS
    | st.just("9999-12-31T23:59:59-14:00")
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
    max_leaves=12,
)


@functools.cache
def _finished_run() -> tuple[Path, dict[str, Any]]:
    """A tiny finished run (made once) and its manifest."""
    out = WORK / "finished"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(
            [
                "run",
                str(SCENARIOS / "examples" / "mmc.yaml"),
                "--set",
                "run.horizon=300",
                "--set",
                "run.warmup=20",
                "--replications",
                "2",
                "--jobs",
                "1",
                "--out",
                str(out),
            ]
        )
    assert code == 0, err.getvalue()
    return out, json.loads((out / "manifest.json").read_text())


def _results_with(manifest: str | bytes) -> Path:
    """A results root with a good run folder and a copy whose manifest is ``manifest``."""
    finished, _ = _finished_run()
    root = Path(tempfile.mkdtemp(dir=WORK)) / "results"
    shutil.copytree(finished, root / "mmc" / "good")
    shutil.copytree(finished, root / "mmc" / "fuzzed")
    path = root / "mmc" / "fuzzed" / "manifest.json"
    if isinstance(manifest, bytes):
        path.write_bytes(manifest)
    else:
        path.write_text(manifest, encoding="utf-8", errors="surrogatepass")
    return root


def _manifests() -> st.SearchStrategy[str | bytes]:
    from sim.store.manifest import ManifestFields

    _, real = _finished_run()
    keys = sorted({*real, *(f.alias or name for name, f in ManifestFields.model_fields.items())})
    one_field = st.tuples(st.sampled_from(keys), json_values).map(
        lambda kv: json.dumps({**real, kv[0]: kv[1]})
    )
    counted = st.tuples(  # the fields read as numbers, with the numbers that break a reader
        st.sampled_from(["replications", "root_seed", "final_replications", "done", "missing", "points"]),
        st.one_of(EDGE_NUMBERS, st.lists(EDGE_NUMBERS, max_size=3), json_values),
    ).map(lambda kv: json.dumps({**real, kv[0]: kv[1]}))
    return st.one_of(
        one_field, counted, json_values.map(json.dumps), st.text(max_size=200), st.binary(max_size=200)
    )


@FUZZ
@given(st.deferred(_manifests))
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_list_and_summary_of_any_manifest(manifest: str | bytes) -> None:
    root = _results_with(manifest)
    folder = root.parent
    _, out, _ = _command(["list", "--results-root", "results", "--format", "csv"], folder, (0,))
    assert "results/mmc/good" in out  # one bad folder never hides the others
    _command(["summary", "results/mmc/fuzzed"], folder)


# ---- observation files -----------------------------------------------------------------------------
OBSERVED_SCENARIO = load_scenario(SCENARIOS / "lang_son_minimal.yaml").scenario
observed_cells = st.one_of(
    st.sampled_from(
        [
            "2021-06-10",
            "2021-02-30",
            "huu_nghi",
            "all",
            "export",
            "import",
            "90",
            "-1",
            "nan",
            "1e400",
            "=cmd|' /c calc'!A1",
            '"',
            "",
            " ",
        ]
    ),
    st.text(max_size=12),
)
observed_rows = st.lists(st.lists(observed_cells, min_size=0, max_size=6), max_size=6)


def _observed_text(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


@FUZZ
@given(
    st.one_of(
        st.tuples(
            st.sampled_from(
                [
                    ["date", "gate", "direction", "value"],
                    ["date", "gate", "direction", "value", "source"],
                    ["date", "date", "gate", "direction", "value"],
                    ["x"],
                ]
            ),
            observed_rows,
        ).map(lambda hr: _observed_text(*hr)),
        st.text(max_size=300),
        st.binary(max_size=300),
    )
)
def test_any_observations_file(text: str | bytes) -> None:
    from sim.analysis.observed import read_observed
    from sim.errors import UserError

    path = Path(tempfile.mkdtemp(dir=WORK)) / "observed.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    t0 = time.process_time()
    try:
        table = read_observed(path, OBSERVED_SCENARIO)
    except UserError as exc:
        message = str(exc)
        assert str(path) in message and len(message) < MESSAGE_LIMIT
    else:
        assert len(table) >= 1 and (table["value"] >= 0).all()
    assert time.process_time() - t0 < SECONDS_PER_EXAMPLE


# ---- --label, --replications and --grid --------------------------------------------------------------
labels = st.one_of(st.text(max_size=300), st.text("abc-_.", min_size=240, max_size=300))
counts = st.one_of(st.integers(min_value=-(10**12), max_value=10**15).map(str), st.text(max_size=12))
grids = st.one_of(
    st.text(max_size=60),
    st.tuples(
        st.sampled_from(["run.seed", "run.warmup", "run.horizon", "gate.servers", "nothing.here", ""]),
        st.lists(st.one_of(st.integers(-5, 10**6).map(str), st.text(max_size=6)), max_size=30),
    ).map(lambda kv: f"{kv[0]}={','.join(kv[1])}"),
)
TINY_MMC = [str(SCENARIOS / "examples" / "mmc.yaml"), "--set", "run.horizon=300", "--set", "run.warmup=20"]


@FUZZ
@given(labels, counts)
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_run_with_any_label_and_count(label: str, count: str) -> None:
    """``--resume`` into a folder that does not exist: every check runs, and nothing else can."""
    folder = Path(tempfile.mkdtemp(dir=WORK))
    args = ["run", *TINY_MMC, f"--label={label}", f"--replications={count}", "--jobs", "1", "--resume"]
    assert _command(args, folder, (2,))[0] == 2


@FUZZ
@given(grids, labels)
@pytest.mark.slow  # over 3 s on two cores: a slow check (.ci/run runs them: pytest -m slow)
def test_sweep_with_any_grid_and_label(grid: str, label: str) -> None:
    folder = Path(tempfile.mkdtemp(dir=WORK))
    args = ["sweep", *TINY_MMC, f"--grid={grid}", f"--label={label}", "--jobs", "1", "--resume"]
    assert _command(args, folder, (2,))[0] == 2
