"""The typed core (issue 32): the model's hot modules pass ``mypy --strict``.

Why it matters beyond tidiness: mypyc compiles these modules only if every value keeps the type it is
declared with; a value whose type changes at run time, or an identity check on a tuple that a compiled
build boxes afresh, fails there silently (queued trucks never served). The modules are listed once, in
``[tool.mypy] files`` of pyproject.toml; the check runs mypy as CI does, on that configuration.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib

import pytest

from sim import version
from tests.conftest import ROOT

CORE = {  # the modules issue 32 names, written out as the spec (sim.version.CORE must hold them)
    "kernel",
    "resources",
    "trucks",
    "routes",
    "records",
    "random_streams",
    "upstream",
    "rail",
    "route_choice",
}


def configured() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]


def test_the_core_modules_are_all_checked_strictly() -> None:
    config = configured()
    files = {str(f) for f in config["files"]}  # type: ignore[attr-defined]
    assert {f"sim/model/{m}.py" for m in CORE} <= files
    # the compiled build compiles the same list that sim.version.build() looks for
    assert {f"sim/model/{m}.py" for m in version.CORE} == files
    assert all((ROOT / f).is_file() for f in files), "a checked module was moved or renamed"
    assert config["strict"] is True


@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason="mypy is not installed (pip install -e '.[test]' installs it)",
)
def test_mypy_strict_passes_on_the_core() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


class _Truck:
    def __init__(self, name: str, served: list[str]) -> None:
        self.name, self.served = name, served

    def granted(self, now: float) -> None:
        self.served.append(self.name)


def _fresh_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the pools' heaps hand back equal but new tuples, as a compiled build's boxing may."""
    import heapq

    from sim.model import resources

    def heappop_copy(heap: list[tuple[object, ...]]) -> tuple[object, ...]:
        return tuple(list(heapq.heappop(heap)))

    monkeypatch.setattr(resources, "heappop", heappop_copy)


def test_priority_pool_serves_its_queue_when_entries_come_back_as_new_tuples(monkeypatch) -> None:
    """An identity check (``place.get(...) is entry``) passed over every truck once its entry was a new
    object: queued trucks were never served. The live entry is now named by its order (an int)."""
    from sim.model.kernel import make_kernel
    from sim.model.resources import PriorityPool

    _fresh_copies(monkeypatch)
    served: list[str] = []
    pool = PriorityPool(make_kernel("heap"), 1)
    trucks = {n: _Truck(n, served) for n in ("a", "b", "c", "d")}
    assert pool.request(trucks["a"], 0, (), 0.0)  # takes the server
    for name, rank in (("b", 2), ("c", 1), ("d", 1)):
        assert not pool.request(trucks[name], rank, (), 1.0)
    pool.withdraw(trucks["d"])  # gave up: its entry is stale
    pool.release()
    pool.release()
    pool.release()
    assert served == ["c", "b"] and pool.waiting() == 0 and pool.busy == 0


def test_scheduled_pool_puts_back_a_truck_whose_ban_ended_when_entries_are_new_tuples(monkeypatch) -> None:
    """The same for ``ScheduledPool._unhold``: a truck set aside while banned goes back to the queue."""
    from sim.model.kernel import make_kernel
    from sim.model.resources import ScheduledPool

    _fresh_copies(monkeypatch)
    served: list[str] = []
    kernel = make_kernel("heap")
    pool = ScheduledPool(kernel, 1, None, wakeups=[5.0])
    first, banned = _Truck("first", served), _Truck("banned", served)
    assert pool.request(first, 0, (), 0.0)
    assert not pool.request(banned, 0, ((0.0, 5.0),), 0.0)
    pool.release()  # the server is free, but the waiting truck is banned until 5: set aside
    assert served == [] and pool.waiting() == 1
    kernel.run(6.0)  # the ban ends: put back and served
    assert served == ["banned"] and pool.waiting() == 0
