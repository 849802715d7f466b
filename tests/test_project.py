"""The project as a student meets it: set-up files agree, README's commands are the real ones, slides export,
the Jupyter server answers, and the code is lint-clean."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _names(lines) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip().lstrip("- ").strip()
        if not line or line.startswith("-"):
            continue
        name = re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower().replace("_", "-")
        if name and name != "python":
            names.add(name)
    return names


def test_environment_yml_and_requirements_name_the_same_packages():
    requirements = _names((ROOT / "requirements.txt").read_text().splitlines())
    env_lines = (ROOT / "environment.yml").read_text().splitlines()
    start = env_lines.index("dependencies:") + 1
    environment = _names(line for line in env_lines[start:] if line.startswith("  - "))
    assert requirements == environment, (
        f"only in requirements.txt: {sorted(requirements - environment)}; "
        f"only in environment.yml: {sorted(environment - requirements)}"
    )
    core = {"jupyterlab", "numpy", "pandas", "scipy", "scikit-learn", "implicit", "matplotlib", "nbval"}
    assert core <= requirements


def test_readme_states_the_three_commands_and_ci_runs_its_test_command():
    readme = (ROOT / "README.md").read_text()
    for command in ("python -m pip install -r requirements.txt", "jupyter lab notebooks/", "pytest"):
        assert f"`{command}`" in readme or f"\n{command}\n" in readme, f"README lacks the command {command!r}"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install" in ci and "-r requirements.txt" in ci
    assert re.search(r"^pytest\s*$", ci, re.MULTILINE), ".ci/run must run README's test command, `pytest`"
    for path in NOTEBOOKS:
        assert path.name in readme, f"README's table of notebooks lacks {path.name}"


def test_gitignore_keeps_downloaded_data_out():
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/ml-100k.zip"], cwd=ROOT)
    if ignored.returncode == 128:
        pytest.skip("not a git checkout")
    assert ignored.returncode == 0, "data/ml-100k.zip would be committed; MovieLens may not be redistributed"
    kept = subprocess.run(["git", "check-ignore", "-q", "data/README.md"], cwd=ROOT)
    assert kept.returncode == 1, "data/README.md must be tracked"


@pytest.mark.slow
def test_every_notebook_exports_as_slides(tmp_path):
    assert NOTEBOOKS
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "slides", "--output-dir", str(tmp_path),
         *map(str, NOTEBOOKS)],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    for path in NOTEBOOKS:
        html = (tmp_path / f"{path.stem}.slides.html").read_text(encoding="utf-8")
        assert "Reveal.initialize" in html and "<section" in html


@pytest.mark.slow
def test_jupyter_lab_serves_the_notebooks(tmp_path, closed_port):
    """The main job, `jupyter lab notebooks/`, on 127.0.0.1 with a token: the REST API lists the notebooks."""
    port, token = closed_port, secrets.token_hex(16)
    env_dirs = {"JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "notebooks/", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],  # CI runs as root; jupyter refuses root without it
        cwd=ROOT, env={**os.environ, **env_dirs}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}

    def get(path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(base + path, headers=headers)
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = get("/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert server.poll() is None, "jupyter lab exited during start-up"
                assert time.monotonic() < deadline, "jupyter lab did not answer within 60 s"
                time.sleep(0.3)
        assert status == 200
        status, body = get("/api/contents/")
        listed = {item["name"] for item in json.loads(body)["content"]}
        assert {p.name for p in NOTEBOOKS} <= listed
        status, body = get("/lab")
        assert status == 200 and b"JupyterLab" in body
        with pytest.raises(urllib.error.HTTPError) as info:  # the token is required
            urllib.request.urlopen(base + "/api/contents/", timeout=5)
        assert info.value.code == 403
        info.value.close()
        shutdown = urllib.request.Request(base + "/api/shutdown", method="POST", headers=headers)
        urllib.request.urlopen(shutdown, timeout=5).close()
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "helpers.py", "tests", "notebooks"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout[-3000:]
