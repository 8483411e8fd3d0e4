"""The image's contents, built the Dockerfile's way without Docker (no engine runs here): a fresh virtualenv
gets exactly `requirements.prod.lock` (hash-checked, no dependency resolution) and the package, and the
API then migrates, serves and passes the Dockerfile's own HEALTHCHECK command. A runtime dependency
missing from the production lock fails here instead of in the cluster."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")


def healthcheck_command() -> list[str]:
    """The exec-form command of the Dockerfile's HEALTHCHECK."""
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = re.search(r"^HEALTHCHECK .*? CMD (\[.*\])\s*$", dockerfile, re.M)
    assert found, "the Dockerfile has no exec-form HEALTHCHECK"
    command: list[str] = json.loads(found[1])
    return command


def test_the_production_lock_alone_runs_the_api(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [str(UV), "pip", "install", "--quiet", "--python", str(python), "--no-deps"]
    subprocess.run([*install, "--require-hashes", "-r", str(ROOT / "requirements.prod.lock")], check=True)
    subprocess.run([*install, str(ROOT)], check=True)

    port = free_port()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "TODO_DATA_DIR": str(tmp_path / "data"),
           "TODO_JWT_SECRET": "image-test-" + "x" * 40, "TODO_API_PORT": str(port),
           "TODO_HEALTH_URL": f"http://127.0.0.1:{port}/healthz", "TODO_LOG_JSON": "true"}  # fmt: skip
    subprocess.run([str(venv / "bin" / "todo"), "migrate"], check=True, env=env, capture_output=True)
    log = (tmp_path / "api.log").open("wb")
    api = subprocess.Popen([str(venv / "bin" / "todo"), "serve", "api"], env=env, stdout=log,
                           stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"http://127.0.0.1:{port}/readyz"):
            assert api.poll() is None, (tmp_path / "api.log").read_text()
            assert time.monotonic() < deadline, "the API did not become ready"
            time.sleep(0.2)
        command = healthcheck_command()
        assert command[0] == "python"
        checked = subprocess.run([str(python), *command[1:]], env=env, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    finally:
        api.terminate()
        api.wait(20)
        log.close()
    stopped = subprocess.run([str(python), *command[1:]], env=env, capture_output=True, text=True)
    assert stopped.returncode != 0  # and it notices when the API is gone


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False
