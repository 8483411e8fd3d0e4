"""The image, twice. Its contents built the Dockerfile's way without Docker: a fresh virtualenv gets exactly
`requirements.prod.lock` (hash-checked, no dependency resolution) and the package, and the API then
migrates, serves and passes the Dockerfile's own HEALTHCHECK command; a runtime dependency missing from
the production lock fails here instead of in the cluster. And the real image, as scripts/cluster built it
with Docker: every role, non-root, on a read-only root."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from todo.platform.ports import free_port

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


@pytest.fixture(scope="module")
def docker() -> list[str]:
    """Debian's Docker client on the engine scripts/cluster starts (which built the image)."""
    host = os.environ.get("TODO_CLUSTER_DOCKER_HOST")
    if not host:
        message = "TODO_CLUSTER_DOCKER_HOST not set: run `make test` (scripts/cluster builds the image)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return ["/usr/bin/docker", "-H", host]


def _docker(docker: list[str], *args: str) -> str:
    result = subprocess.run([*docker, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _until_healthy(docker: list[str], container: str, within: float = 90) -> None:
    deadline = time.monotonic() + within
    while (status := _docker(docker, "inspect", "-f", "{{.State.Health.Status}}", container)) != "healthy":
        assert time.monotonic() < deadline, f"{status}: {_docker(docker, 'logs', container)}"
        time.sleep(0.5)


@pytest.mark.cluster
def test_the_built_image_migrates_serves_every_role_as_non_root_on_a_read_only_root(
    docker: list[str],
) -> None:
    """The image scripts/cluster built with our Dockerfile, run as the cluster runs it: a read-only root,
    /tmp and the data dir writable, each role passing the image's own HEALTHCHECK command."""
    image = os.environ.get("TODO_CLUSTER_IMAGE", "todo.local/todo:dev")
    config = json.loads(_docker(docker, "image", "inspect", image))[0]["Config"]
    assert config["User"] == "10001:10001"
    assert config["Healthcheck"]["Test"] == ["CMD", *healthcheck_command()]
    volume = _docker(docker, "volume", "create")
    secret = "TODO_JWT_SECRET=image-test-" + "x" * 40
    options = ["--network", "host", "--read-only", "--tmpfs", "/tmp", "-v", f"{volume}:/var/lib/todo",
               "-e", secret, "-e", "TODO_HOST=127.0.0.1"]  # fmt: skip
    started: list[str] = []
    try:
        _docker(docker, "run", "--rm", *options, image, "migrate")
        api, notifications, web = free_port(), free_port(), free_port()
        roles = {
            "api": (api, [f"TODO_API_PORT={api}"]),
            "notifications": (notifications, [f"TODO_NOTIFICATIONS_PORT={notifications}"]),
            "web": (web, [f"TODO_WEB_PORT={web}", f"TODO_BACKEND_URL=http://127.0.0.1:{api}"]),
        }
        for role, (port, env) in roles.items():
            env = [*env, f"TODO_HEALTH_URL=http://127.0.0.1:{port}/healthz"]
            # the image's own HEALTHCHECK, run every second instead of every 15 s
            timing = ["--health-interval=1s", "--health-start-period=0s"]
            started.append(_docker(docker, "run", "-d", *options, *(f"-e={e}" for e in env), *timing,
                                   image, "serve", role))  # fmt: skip
        for container in started:
            _until_healthy(docker, container)
        ids = _docker(
            docker, "exec", started[0], "python", "-c", "import os; print(os.getuid(), os.getgid())"
        )
        assert ids == "10001 10001"
        wrote = subprocess.run([*docker, "exec", started[0], "python", "-c", "open('/probe', 'w')"],
                               capture_output=True, text=True)  # fmt: skip
        assert wrote.returncode != 0
        assert "Read-only file system" in wrote.stderr
    finally:
        for container in started:
            subprocess.run([*docker, "rm", "-f", container], capture_output=True)
        subprocess.run([*docker, "volume", "rm", volume], capture_output=True)
