"""Execute the notebooks in place, so that the committed files carry fresh outputs.

Usage (from the repository root)::

    python notebooks/_build.py                  # every notebook
    python notebooks/_build.py 01 04            # the ones whose names start so

Each notebook runs top to bottom in a fresh kernel of *this* Python
interpreter, with ``notebooks/`` as the working directory, and is written back
with its outputs (figures inline). A cell that raises stops the build with the
error. ``tests/test_notebooks.py`` runs the same notebooks the same way in CI
(without writing them back).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def write_kernel(spec_dir: str) -> str:
    """Write a ``python3`` kernel spec that runs *this* interpreter; return its dir.

    The ``python3`` spec that ipykernel installs runs whatever ``python`` is
    first on PATH; this one pins ``sys.executable``.
    """
    kernels = Path(spec_dir) / "kernels"
    env = {"PYTHONPATH": _pythonpath()}
    write_kernel_spec(kernels / "python3", overrides={"env": env})
    return str(kernels)


def kernel_manager(kernels: str) -> KernelManager:
    ksm = KernelSpecManager(kernel_dirs=[kernels])
    return KernelManager(kernel_name="python3", kernel_spec_manager=ksm)


def _pythonpath() -> str:
    """The kernel imports the same ``tsrnn`` as this process (checkout or install)."""
    import tsrnn

    top = str(Path(tsrnn.__file__).resolve().parent.parent)
    rest = os.environ.get("PYTHONPATH", "")
    return top + (os.pathsep + rest if rest else "")


def run(path: Path, kernels: str, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        km=kernel_manager(kernels),
        timeout=timeout,
        record_timing=False,
        resources={"metadata": {"path": str(HERE)}},
    )
    start = time.perf_counter()
    client.execute(cleanup_kc=True)  # shut the kernel down, close sockets
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str]) -> None:
    if importlib.util.find_spec("tsrnn") is None:  # not installed: this checkout
        sys.path.insert(0, str(ROOT))
    paths = sorted(HERE.glob("[0-9]*.ipynb"))
    if argv:
        paths = [p for p in paths if any(p.name.startswith(a) for a in argv)]
    with tempfile.TemporaryDirectory() as spec_dir:
        kernels = write_kernel(spec_dir)
        for path in paths:
            seconds = run(path, kernels)
            print(f"{path.name}: {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
