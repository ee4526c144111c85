"""Property-based: the scenario loader and ``--set`` against random and hostile documents (issue 13).

Whatever a document or an override says (wrong types, huge or non-finite numbers, impossible dates,
aliases, deep nesting, unicode, binary), ``bordersim validate`` ends with exit 0 (a valid scenario) or
exit 2 and short messages; never a traceback, never a hang, never a file written. Examples are bounded
and derandomized (the same examples on every run, so CI is reproducible) and take a few seconds.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
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


def _validate(args: list[str], folder: Path) -> tuple[int, str]:
    """Run ``bordersim validate`` in-process; the exit code and stderr, checked for the invariants."""
    before = sorted(p.name for p in folder.iterdir())
    cwd = os.getcwd()
    err = io.StringIO()
    t0 = time.perf_counter()
    try:
        os.chdir(folder)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["validate", *args])  # an exception other than a clean exit fails the test here
    finally:
        os.chdir(cwd)
    seconds = time.perf_counter() - t0
    text = err.getvalue()
    assert seconds < SECONDS_PER_EXAMPLE, f"took {seconds:.1f} s"
    assert code in (0, 2), code
    assert "Traceback" not in text
    assert len(text) < MESSAGE_LIMIT, f"{len(text)} characters of messages"
    if code == 2:
        assert text.startswith("error:"), text[:200]
    assert sorted(p.name for p in folder.iterdir()) == before, "a file was written"
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
def test_any_override(key: str, raw: str) -> None:
    folder = Path(tempfile.mkdtemp(dir=WORK))
    scenario = _document(folder, BASE_TEXT)
    _validate([str(scenario), f"--set={key}={raw}"], folder)


@FUZZ
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_document(text: str | bytes) -> None:
    folder = Path(tempfile.mkdtemp(dir=WORK))
    _validate([str(_document(folder, text))], folder)


def test_the_base_document_itself_is_valid() -> None:
    """The mutations start from a valid scenario: without them, validate accepts it."""
    folder = Path(tempfile.mkdtemp(dir=WORK))
    assert _validate([str(_document(folder, BASE_TEXT))], folder)[0] == 0
