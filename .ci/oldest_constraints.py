"""Print pip requirements that pin every floor in pyproject.toml exactly.

``python .ci/oldest_constraints.py [EXTRA ...] > oldest.txt`` turns each
``name>=X`` of ``[project] dependencies`` (and of the named extras) into
``name==X``, so that ``pip install -e . -r oldest.txt`` installs the oldest
versions pyproject.toml allows: the floors the CI's oldest-versions job tests.
Every runtime dependency must have a floor. Requirements pinned with ``==``
are left out (the test extra's torch: its CPU wheel here is for the newest
Python only, so the oldest job skips the torch parity tests; see .ci/run).
Runs on Python >= 3.11 (tomllib).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

_REQ = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<extras>\[[^\]]*\])?\s*"
    r"(?P<spec>[^;]*?)\s*(?:;.*)?$"
)


def floors(requirements: list[str], *, strict: bool) -> list[str]:
    """``name[extras]==floor`` for every requirement with a ``>=`` floor."""
    out = []
    for req in requirements:
        m = _REQ.match(req)
        if m is None:
            raise SystemExit(f"cannot parse requirement {req!r}")
        name, spec = m["name"] + (m["extras"] or ""), m["spec"]
        if "==" in spec:
            continue
        floor = re.search(r">=\s*([0-9][^,\s]*)", spec)
        if floor is None:
            if strict:
                raise SystemExit(
                    f"dependency {req!r} has no '>=' floor: give it one that the "
                    "oldest-versions job can test"
                )
            continue
        out.append(f"{name}=={floor.group(1)}")
    return out


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    lines = floors(project["dependencies"], strict=True)
    optional = project.get("optional-dependencies", {})
    for extra in argv:
        if extra not in optional:
            raise SystemExit(f"pyproject.toml has no extra {extra!r}")
        lines += floors(optional[extra], strict=False)
    print("\n".join(dict.fromkeys(lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
