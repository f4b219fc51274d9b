"""Numba's on-disk cache shared by processes (``tsrnn.kernels._jit``).

Numba saves a specialization by reading a kernel's index, taking the next
free data file number and writing index and data, with no lock between
processes: two processes saving two specializations of one kernel at once
could leave the index naming one signature over the other's machine code,
which later processes then ran on the wrong argument types. tsrnn's kernels
save under a lock file and drop a loaded specialization of another
signature. Each case runs fresh interpreters on an empty cache directory.
"""

from __future__ import annotations

import os
import pathlib
import pickle
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

KERNEL = """
from tsrnn.kernels._jit import jit


@jit
def total(a):
    s = a[0] * 0
    for i in range(a.shape[0]):
        s += a[i]
    return s
"""

# a worker: optionally stretches Numba's save in time (reads the index, then
# waits before writing it and the data), then calls the kernel on one dtype
WORKER = """
import sys, time
import numpy as np
from numba.core import caching

dtype, pause_index, pause_data = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
if pause_index:
    cache_file = caching.IndexDataCacheFile
    load, save_data = cache_file._load_index, cache_file._save_data

    def slow_load(self):
        out = load(self)
        time.sleep(pause_index)
        return out

    def slow_save_data(self, name, data):
        time.sleep(pause_data)
        return save_data(self, name, data)

    caching.IndexDataCacheFile._load_index = slow_load
    caching.IndexDataCacheFile._save_data = slow_save_data
import kern

print(repr(kern.total(np.arange(5, dtype=dtype))))
"""


@pytest.fixture
def here(tmp_path):
    (tmp_path / "kern.py").write_text(KERNEL)
    (tmp_path / "worker.py").write_text(textwrap.dedent(WORKER))
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]),
    }
    return tmp_path, env


def _start(here, dtype, pause_index=0.0, pause_data=0.0):
    path, env = here
    return subprocess.Popen(
        [
            sys.executable,
            str(path / "worker.py"),
            dtype,
            str(pause_index),
            str(pause_data),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc):
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out.strip()


def _run(here, dtype):
    return _result(_start(here, dtype))


def test_two_processes_saving_two_signatures_at_once_leave_both_right(here):
    # both read the index before either writes it; the float64 data is written
    # last: without the lock, the int64 entry named the float64 code
    a = _start(here, "float64", 0.5, 1.5)
    b = _start(here, "int64", 0.7, 0.0)
    assert _result(a) == "10.0"
    assert _result(b) == "10"
    assert _run(here, "int64") == "10"
    assert _run(here, "float64") == "10.0"


def test_an_entry_holding_another_signatures_code_is_compiled_again(here):
    path, _ = here
    assert _run(here, "float64") == "10.0"
    assert _run(here, "int64") == "10"
    # swap the index's data files: each signature now names the other's code
    (index,) = (path / "cache").rglob("kern.total-*.nbi")
    with open(index, "rb") as f:
        version = pickle.load(f)
        stamp, overloads = pickle.loads(f.read())
    keys = list(overloads)
    assert len(keys) == 2
    overloads = {keys[0]: overloads[keys[1]], keys[1]: overloads[keys[0]]}
    from numba.core.serialize import dumps

    with open(index, "wb") as f:
        pickle.dump(version, f, protocol=-1)
        f.write(dumps((stamp, overloads)))
    assert _run(here, "int64") == "10"
    assert _run(here, "float64") == "10.0"
    # and the entries are right again
    assert _run(here, "int64") == "10"


def test_no_kernel_takes_a_function_argument():
    """A dispatcher argument puts its type in the cache key, which never matches
    in another process: every run compiled the kernel again and grew its index
    (the sampler test's reference did, until it took an int code)."""
    import ast

    offenders = []
    for path in sorted((ROOT / "tsrnn").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            decorators = [ast.unparse(d) for d in node.decorator_list]
            if not any("jit" in d or "_driver" in d for d in decorators):
                continue
            params = {a.arg for a in node.args.args}
            offenders += [
                f"{path.name}:{node.name} calls {call.func.id}"
                for call in ast.walk(node)
                if isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id in params
            ]
    assert offenders == []


# a worker that reads its kernel with the kernel sources' digest given (or the
# package's own, "-") and reports whether the cache served it
STAMP_WORKER = """
import sys
import numpy as np
import tsrnn.kernels._jit as jit_module

if sys.argv[1] != "-":  # as if the kernels' helpers had changed
    jit_module.kernel_sources_digest = lambda: sys.argv[1].encode()
import kern

value = kern.total(np.arange(5.0))
stats = kern.total.stats
print(value, sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
"""


def test_an_entry_compiled_from_other_kernel_sources_is_compiled_again(here):
    """A kernel whose own file is unchanged must not keep machine code compiled
    from helpers that changed since (Numba stamps the kernel's own file only)."""
    path, env = here
    (path / "stamp_worker.py").write_text(textwrap.dedent(STAMP_WORKER))

    def run(digest):
        out = subprocess.run(
            [sys.executable, str(path / "stamp_worker.py"), digest],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        value, hits, misses = out.stdout.split()
        assert value == "10.0"
        return int(hits), int(misses)

    assert run("-") == (0, 1)  # compiled and saved
    assert run("-") == (1, 0)  # served from the cache
    assert run("edited helpers") == (0, 1)  # stale: compiled again
    assert run("edited helpers") == (1, 0)
    assert run("-") == (0, 1)


def test_the_kernel_sources_digest_covers_the_kernels_and_their_helpers():
    from tsrnn.kernels import _jit

    digest = _jit.kernel_sources_digest()
    assert len(digest) == 32 and digest == _jit.kernel_sources_digest()
    package = ROOT / "tsrnn"
    numba_files = {
        p.relative_to(package).parts[0]
        for p in package.rglob("*.py")
        if "@jit" in p.read_text() or "@intrinsic" in p.read_text()
    }
    assert numba_files <= set(_jit.KERNEL_SOURCE_DIRS)
