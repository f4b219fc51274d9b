"""Every notebook in ``notebooks/`` runs top to bottom without an error.

Each notebook is executed by nbclient in a fresh kernel of the interpreter that
runs pytest (so in CI, the project's virtual environment), with ``notebooks/``
as the working directory and matplotlib's non-interactive Agg backend. A cell
that raises fails the test with the cell and its traceback; so does anything a
cell writes to stderr (warnings included), since the committed notebooks are
documentation and should read cleanly. New notebooks are picked up by the glob.

The outputs are not compared with the committed ones (timings and the last
digits of trained models vary by machine); ``python notebooks/_build.py``
refreshes the committed outputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import tsrnn

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell; every notebook takes well under a minute


@pytest.fixture(scope="session")
def kernel_dirs(tmp_path_factory):
    """A ``python3`` kernel spec that runs *this* interpreter.

    The spec ipykernel installs starts whatever ``python`` comes first on
    PATH, which need not be the environment under test.
    """
    top = str(Path(tsrnn.__file__).resolve().parent.parent)
    pythonpath = os.pathsep.join(p for p in (top, os.environ.get("PYTHONPATH")) if p)
    kernels = tmp_path_factory.mktemp("jupyter") / "kernels"
    write_kernel_spec(
        kernels / "python3",
        overrides={"env": {"MPLBACKEND": "Agg", "PYTHONPATH": pythonpath}},
    )
    return [str(kernels)]


def test_the_notebooks_are_there():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 6, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, kernel_dirs):
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(
        kernel_name="python3",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs),
    )
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    try:
        client.execute(cleanup_kc=True)  # shut the kernel down, close sockets
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}", pytrace=False)
    stderr = [
        (i, out["text"])
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    ]
    assert not stderr, f"{path.name} wrote to stderr (cell, text): {stderr}"
