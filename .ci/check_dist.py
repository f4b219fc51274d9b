"""Build the sdist and the wheel, list them, and check what they hold.

``python .ci/check_dist.py`` (needs the ``build`` package) builds both with
``python -m build`` (the wheel from the sdist, so the sdist must be complete)
and fails unless:

- the licence files are in both: ``LICENSE`` (BSD-3-Clause) and the texts of
  the data licences the wheel ships (NCSA, LicenseRef-NERACOOS), recorded as
  ``License-File`` in the metadata, with the matching ``License-Expression``;
- the wheel has ``tsrnn/py.typed`` and the classifiers;
- exactly the permissively licensed dataset files are in both, and none of
  the GPL-3.0/LGPL-3.0 ones (datasets/LICENSES/README.md says why);
  which is which comes from ``tsrnn.datasets.list_datasets()["license"]``.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPRESSION = "BSD-3-Clause AND NCSA AND LicenseRef-NERACOOS"
LICENCE_FILES = [
    "LICENSE",
    "datasets/LICENSES/NCSA-arch.md",
    "datasets/LICENSES/LicenseRef-NERACOOS.txt",
]


def _dataset_files() -> tuple[set[str], set[str]]:
    sys.path.insert(0, str(ROOT))
    from tsrnn.datasets import list_datasets

    info = list_datasets()
    copyleft = {f for s in info.itertuples() if "GPL" in s.license for f in s.files}
    every = {f for files in info["files"] for f in files}
    return every - copyleft, copyleft


def _check_metadata(text: str, where: str, problems: list[str]) -> None:
    meta = Parser().parsestr(text)
    if meta["License-Expression"] != EXPRESSION:
        problems.append(f"{where}: License-Expression is {meta['License-Expression']!r}")
    if sorted(meta.get_all("License-File") or []) != sorted(LICENCE_FILES):
        problems.append(f"{where}: License-File is {meta.get_all('License-File')}")
    if "Typing :: Typed" not in (meta.get_all("Classifier") or []):
        problems.append(f"{where}: no 'Typing :: Typed' classifier")


def _check_data(names: set[str], where: str, permissive, copyleft, problems) -> None:
    csvs = {Path(n).name for n in names if n.endswith(".csv")}
    if csvs != permissive:
        problems.append(
            f"{where}: dataset files {sorted(csvs)}, expected {sorted(permissive)}"
        )
    if csvs & copyleft:
        problems.append(f"{where}: ships GPL/LGPL data {sorted(csvs & copyleft)}")


def main() -> int:
    permissive, copyleft = _dataset_files()
    with tempfile.TemporaryDirectory() as out:
        built = subprocess.run(
            [sys.executable, "-m", "build", "--outdir", out, str(ROOT)],
            capture_output=True,
            text=True,
        )
        if built.returncode != 0:
            print(built.stdout + built.stderr, file=sys.stderr)
            print("check_dist: FAILED: python -m build failed", file=sys.stderr)
            return 1
        (sdist,) = Path(out).glob("*.tar.gz")
        (wheel,) = Path(out).glob("*.whl")
        problems: list[str] = []

        with tarfile.open(sdist) as tar:
            top = tar.getnames()[0].split("/")[0]
            names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
            pkg_info = tar.extractfile(f"{top}/PKG-INFO").read().decode()
        _check_metadata(pkg_info, sdist.name, problems)
        for needed in [*LICENCE_FILES, "tsrnn/py.typed", "pyproject.toml"]:
            if needed not in names:
                problems.append(f"{sdist.name}: no {needed}")
        _check_data(names, sdist.name, permissive, copyleft, problems)
        print(f"{sdist.name}: {len(names)} entries, {sdist.stat().st_size:,} bytes")

        with zipfile.ZipFile(wheel) as whl:
            names = set(whl.namelist())
            info = next(n for n in names if n.endswith(".dist-info/METADATA"))
            metadata = whl.read(info).decode()
        dist_info = info.rsplit("/", 1)[0]
        _check_metadata(metadata, wheel.name, problems)
        for needed in ["tsrnn/py.typed", "tsrnn/__init__.py"] + [
            f"{dist_info}/licenses/{f}" for f in LICENCE_FILES
        ]:
            if needed not in names:
                problems.append(f"{wheel.name}: no {needed}")
        _check_data(names, wheel.name, permissive, copyleft, problems)
        print(f"{wheel.name}: {len(names)} entries, {wheel.stat().st_size:,} bytes")
        for name in sorted(names):
            if not name.endswith(".py"):
                print(f"  {name}")

    for problem in problems:
        print(f"check_dist: {problem}", file=sys.stderr)
    print(
        f"check_dist: {'FAILED' if problems else 'ok'}: wheel and sdist hold LICENSE, "
        f"the data licences ({EXPRESSION}) and {len(permissive)} permissive data "
        f"files; none of the {len(copyleft)} GPL/LGPL files"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
