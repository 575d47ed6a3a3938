"""The image, checked statically (issue 27, item 4; no Docker engine here): the Dockerfile runs
as a fixed non-root uid that owns the /data volume, writes only to /data and /tmp (read-only root
filesystem), has a health check and `python -m bot` as its entry point; the compose file runs it
read-only; the CI workflow builds amd64 and arm64 and publishes to ghcr.io; the README has the
buildx recipe and the `docker run` one-liner with the same platforms, flags and image."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
PLATFORMS = "linux/amd64,linux/arm64"


def dockerfile() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments left out."""
    lines = [line for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()
             if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    steps = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            steps.append((keyword.upper(), rest.strip()))
    return steps


def values(keyword: str) -> list[str]:
    return [rest for key, rest in dockerfile() if key == keyword]


def env() -> dict[str, str]:
    found: dict[str, str] = {}
    for rest in values("ENV"):
        for item in shlex.split(rest):
            key, _, value = item.partition("=")
            found[key] = value
    return found


def test_it_runs_as_a_fixed_non_root_uid_that_owns_the_data_volume():
    (user,) = values("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0
    run = " ".join(values("RUN"))
    assert f"--uid {uid}" in run and f"--gid {gid}" in run
    assert f"groupadd --system --gid {gid}" in run
    assert "chown moviebot:moviebot /data" in run
    keywords = [key for key, _ in dockerfile()]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")
    assert values("VOLUME") == ['["/data"]']
    assert values("WORKDIR") == ["/app"]
    assert env()["MOVIEBOT_DATABASE"].startswith("/data/")


def test_it_writes_only_to_data_and_tmp():
    variables = env()
    assert variables["MPLCONFIGDIR"].startswith("/tmp/")
    assert variables["PYTHONDONTWRITEBYTECODE"] == "1"  # no __pycache__ next to the code
    # Every other path an ENV names is read-only at run time, except /data.
    for key, value in variables.items():
        if value.startswith("/") and key not in ("MPLCONFIGDIR", "MOVIEBOT_DATABASE"):
            raise AssertionError(f"{key}={value} would need a writable root filesystem")


def test_health_check_entry_point_and_metrics_port():
    (check,) = values("HEALTHCHECK")
    assert check.endswith('CMD ["python", "-m", "bot", "health"]')
    assert json.loads(values("ENTRYPOINT")[0]) == ["python", "-m", "bot"]
    assert json.loads(values("CMD")[0]) == ["run"]
    from bot.config import DEFAULT_METRICS_PORT

    assert values("EXPOSE") == [str(DEFAULT_METRICS_PORT)]


def test_compose_runs_it_with_a_read_only_root_and_a_tmpfs():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    service = compose["services"]["moviebot"]
    assert service["read_only"] is True and service["tmpfs"] == ["/tmp"]
    assert "moviebot-data:/data" in service["volumes"]


def _workflow() -> dict[str, Any]:
    data = yaml.safe_load((REPO / ".github" / "workflows" / "image.yml").read_text(
        encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` as true
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    return job["steps"]


def test_the_workflow_builds_both_platforms_and_pushes_to_ghcr_except_for_pull_requests():
    workflow = _workflow()
    assert set(workflow["on"]) >= {"push", "pull_request", "workflow_dispatch"}
    assert workflow["on"]["push"]["tags"] == ["v*"]
    assert workflow["permissions"]["packages"] == "write"
    steps = _steps(workflow)
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    for action in ("actions/checkout", "docker/setup-qemu-action", "docker/setup-buildx-action",
                   "docker/login-action", "docker/metadata-action", "docker/build-push-action"):
        assert action in uses, action
    builds = [s["with"] for s in steps if s.get("uses", "").startswith("docker/build-push")]
    final = builds[-1]
    assert final["platforms"] == PLATFORMS and final["file"] == "Dockerfile"
    assert final["push"] == "${{ github.event_name != 'pull_request' }}"
    assert final["tags"] == "${{ steps.meta.outputs.tags }}"
    (login,) = [s for s in steps if s.get("uses", "").startswith("docker/login-action")]
    assert login["with"]["registry"] == "ghcr.io"
    assert login["with"]["password"] == "${{ secrets.GITHUB_TOKEN }}"
    assert login["if"] == "github.event_name != 'pull_request'"
    # The smoke test runs the image as it is meant to run before anything is pushed.
    smoke = next(s for s in steps if "smoke" in s.get("name", "").lower() and "run" in s)
    assert "--read-only --tmpfs /tmp" in smoke["run"] and "python -m bot health" in smoke["run"]
    assert steps.index(smoke) < steps.index(login)


def _readme_docker() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## Docker\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_has_the_buildx_recipe_and_the_docker_run_one_liner():
    section = _readme_docker()
    buildx = next(line for line in section.splitlines() if "docker buildx build" in line)
    assert f"--platform {PLATFORMS}" in buildx
    run = re.sub(r"\\\n\s*", "", section)
    one_liner = next(line for line in run.splitlines() if line.startswith("docker run "))
    args = shlex.split(one_liner)
    assert "--read-only" in args and args[args.index("--tmpfs") + 1] == "/tmp"
    assert "moviebot-data:/data" in args and args[args.index("--env-file") + 1] == ".env"
    assert "DISCORD_TOKEN=" in section  # what the .env holds
    assert re.fullmatch(r"ghcr\.io/\w+/moviebot:latest", args[-1])
    for words in ("/data", "10001", "unraid/moviebot.xml", ".github/workflows/image.yml"):
        assert words in section, words
