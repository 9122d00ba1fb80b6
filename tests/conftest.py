from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# longest work first under xdist; --record-durations refreshes the figures it orders by
pytest_plugins = ["tests.longest_first"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Under pytest-xdist every worker is its own process with its own QApplication and torch; its
# share of the cores (not all of them each) keeps N workers from running N × cores threads.
# Set before anything imports torch; the command-line tests' subprocesses inherit it.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    _THREADS = str(max(1, (os.cpu_count() or 1) // _WORKERS))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_name, _THREADS)


@pytest.fixture(autouse=True, scope="session")
def convscope_session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test reads or writes the real ConvScope folder (settings, runs, downloaded data).

    One folder per session, i.e. per xdist worker (each worker has its own basetemp), and the
    command-line tests' subprocesses inherit it; GUI tests get a fresh one per test on top
    (tests/app/conftest.py)."""
    home = tmp_path_factory.mktemp("convscope-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONVSCOPE_HOME", str(home))
        yield home
