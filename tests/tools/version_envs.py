"""Prove the version floors: run the whole suite on the oldest Python and packages we claim, and on the newest.

``floor``:  the oldest Python README names (3.10) with every package at the lower bound requirements.txt gives
            (``numpy>=1.26`` becomes ``numpy==1.26``; a few bounds name a release whose first patch was
            yanked, see FLOOR_PATCH).
``newest``: the newest Python we support (3.13) with the newest releases pip finds.

Each builds a virtual environment once (in ``$RECSYS_VENVS``, default ``~/.cache/recsys-lecture-venvs``), installs
requirements.txt into it, and runs README's test command, ``pytest``, with that environment's Python, from the
repository root. The notebooks' committed outputs must hold there too.

Usage (from the repository root)::

    python tests/tools/version_envs.py floor           # build (first time: about 3 minutes) and run pytest
    python tests/tools/version_envs.py newest
    python tests/tools/version_envs.py floor --fresh   # rebuild the environment from scratch
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbtools import ROOT  # noqa: E402

PYTHONS = {"floor": "3.10", "newest": "3.13"}
# Lower bounds whose ".0" release cannot be installed (yanked), and the first that can.
FLOOR_PATCH = {"scipy": "1.11.1"}


def find_python(version: str) -> str:
    """A working ``python<version>`` from pyenv or PATH; explain how to get one otherwise."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [str(p) for p in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"))[::-1]]
    candidates.append(shutil.which(f"python{version}") or "")
    for candidate in filter(None, candidates):
        works = subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0
        if works:  # a pyenv shim for a version that is not active fails here
            return candidate
    raise SystemExit(f"no Python {version} found: install it (e.g. `pyenv install {version}`) and try again")


def floor_constraints(requirements: Path) -> list[str]:
    """``name==lower_bound`` for every package in requirements.txt."""
    pins = []
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)", line)
        if match:
            name, version = match.groups()
            pins.append(f"{name}=={FLOOR_PATCH.get(name.lower(), version)}")
        elif line:
            raise SystemExit(f"requirements.txt: cannot read a lower bound from {line!r}")
    return pins


def build(which: str, fresh: bool) -> Path:
    home = Path(os.environ.get("RECSYS_VENVS", Path.home() / ".cache" / "recsys-lecture-venvs"))
    venv = home / f"{which}-py{PYTHONS[which]}"
    python = venv / "bin" / "python"
    stamp = venv / "requirements.stamp"
    wanted = (ROOT / "requirements.txt").read_text()
    if fresh and venv.exists():
        shutil.rmtree(venv)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        print(f"using {venv} (requirements unchanged)", flush=True)
        return python
    if venv.exists():
        shutil.rmtree(venv)
    print(f"building {venv} with Python {PYTHONS[which]} ...", flush=True)
    start = time.perf_counter()
    subprocess.run([find_python(PYTHONS[which]), "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pip.append("--root-user-action=ignore")
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    command = pip + ["-r", str(ROOT / "requirements.txt")]
    if which == "floor":
        constraints = venv / "floor-constraints.txt"
        constraints.write_text("\n".join(floor_constraints(ROOT / "requirements.txt")) + "\n")
        command += ["-c", str(constraints)]
    subprocess.run(command, check=True)
    stamp.write_text(wanted)
    print(f"built in {time.perf_counter() - start:.0f} s", flush=True)
    return python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=sorted(PYTHONS))
    parser.add_argument("--fresh", action="store_true", help="rebuild the environment")
    args = parser.parse_args()
    python = build(args.which, args.fresh)
    versions = subprocess.run(
        [str(python), "-c", "import sys, numpy, pandas, scipy, sklearn, implicit, matplotlib; "
         "print('Python', sys.version.split()[0], '· numpy', numpy.__version__, '· pandas', pandas.__version__,"
         " '· scipy', scipy.__version__, '· scikit-learn', sklearn.__version__, '· implicit',"
         " implicit.__version__, '· matplotlib', matplotlib.__version__)"],
        check=True, capture_output=True, text=True).stdout.strip()
    print(versions, flush=True)
    env = dict(os.environ, PATH=f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    start = time.perf_counter()
    result = subprocess.run([str(python), "-m", "pytest"], cwd=ROOT, env=env)
    print(f"{args.which}: pytest exited {result.returncode} in {time.perf_counter() - start:.0f} s", flush=True)
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
