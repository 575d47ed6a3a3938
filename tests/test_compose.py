"""Every compose service and every README `docker compose run/exec` line, parsed by the bot's own
command line (issue 21, item 1).

The image's ENTRYPOINT is `python -m bot`, so a compose `command` holds only the CLI's arguments;
`command: ["python", "-m", "bot", "run"]` ran `python -m bot python -m bot run` and stopped with
`invalid choice: 'python'`. Here each service's ENTRYPOINT (from the Dockerfile unless the
service sets one) plus its command goes through `build_parser()` (parse only, nothing runs), as do
the Dockerfile's CMD and HEALTHCHECK and the README's compose commands. Where the `docker compose`
plugin is installed, `docker compose config` checks the files too (skipped otherwise).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.__main__ import build_parser

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILES = sorted(REPO.glob("docker-compose*.yml"))
BOT = ["python", "-m", "bot"]
COMPOSE_ENV = {"DISCORD_TOKEN": "x.y.z", "POSTGRES_PASSWORD": "secret",
               "REDIS_PASSWORD": "secret2", "MOVIEBOT_REDIS_JOB_KEY": "0123456789abcdef0123"}


def dockerfile_instruction(keyword: str) -> list[str]:
    """The exec form (JSON array) of a Dockerfile instruction, e.g. ENTRYPOINT or CMD."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text(encoding="utf-8"))
    for line in text.splitlines():
        if line.startswith(keyword + " "):
            value = line[len(keyword):].strip()
            if keyword == "HEALTHCHECK":
                value = value.split(" CMD ", 1)[1].strip()
            return json.loads(value)
    raise AssertionError(f"no {keyword} in the Dockerfile")


def parses(argv: list[str]) -> str | None:
    """None when the bot's CLI accepts `argv`, else the reason (argparse's exit)."""
    try:
        build_parser().parse_args(argv)
    except SystemExit as stop:
        return f"{argv!r} is refused by the CLI (exit {stop.code})"
    return None


def bot_arguments(argv: list[str]) -> list[str]:
    assert argv[:3] == BOT, f"{argv!r} does not run `python -m bot`"
    return argv[3:]


def as_list(value: Any) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else list(value)


def bot_services(path: Path) -> dict[str, dict[str, Any]]:
    """The services of a compose file that run this project's image (built from the repo)."""
    services = yaml.safe_load(path.read_text(encoding="utf-8"))["services"]
    return {name: spec for name, spec in services.items() if "build" in spec}


def test_every_compose_file_has_bot_services():
    assert [p.name for p in COMPOSE_FILES] == ["docker-compose.cluster.yml", "docker-compose.yml"]
    for path in COMPOSE_FILES:
        assert bot_services(path), path.name


def test_the_dockerfile_entrypoint_cmd_and_healthcheck_parse():
    entrypoint = dockerfile_instruction("ENTRYPOINT")
    assert entrypoint == BOT
    assert parses(dockerfile_instruction("CMD")) is None
    assert parses(bot_arguments(dockerfile_instruction("HEALTHCHECK"))) is None


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_each_service_entrypoint_and_command_parse(path):
    entrypoint = dockerfile_instruction("ENTRYPOINT")
    default_command = dockerfile_instruction("CMD")
    for name, spec in bot_services(path).items():
        argv = as_list(spec.get("entrypoint", entrypoint)) + as_list(
            spec.get("command", default_command))
        assert parses(bot_arguments(argv)) is None, f"{path.name}: service {name}"


def test_the_cluster_file_runs_sync_clusters_and_workers():
    commands = {name: spec.get("command") for name, spec in
                bot_services(REPO / "docker-compose.cluster.yml").items()}
    assert commands["sync"] == ["sync"]
    assert commands["cluster-0"] == commands["cluster-1"] == ["run"]
    assert commands["worker"][0] == "worker"


def readme_compose_commands() -> list[str]:
    """The shell lines of the README and docs/operations.md (its scaling-out detail) that call
    docker compose (continuations joined, `$C` expanded)."""
    blocks = [block for name in ("README.md", "docs/operations.md")
              for block in re.findall(r"```(?:sh|bash|console)?\n(.*?)```",
                                      (REPO / name).read_text(encoding="utf-8"), re.DOTALL)]
    lines = []
    for block in blocks:
        variables: dict[str, str] = {}
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.split(" #", 1)[0].strip().removeprefix("$ ")
            if match := re.fullmatch(r'(\w+)="([^"]*)"', line):
                variables[match.group(1)] = match.group(2)
                continue
            for name, value in variables.items():
                line = line.replace(f"${name} ", f"{value} ")
            if line.startswith("docker compose "):
                lines.append(line)
    return lines


RUN_OPTIONS_WITH_VALUE = {"-v", "--volume", "-e", "--env", "--name", "--entrypoint", "-u",
                          "--user", "-w", "--workdir", "-p", "--publish", "-l", "--label"}


def compose_invocation(line: str) -> list[str] | None:
    """The `python -m bot ...` argv a README `docker compose run/exec` line runs, or None for
    lines that run nothing of ours (up, ps, build, ...)."""
    words = shlex.split(line)[2:]
    compose_file = "docker-compose.yml"
    while words and words[0] in ("-f", "--file", "-p", "--project-name", "--profile"):
        if words[0] in ("-f", "--file"):
            compose_file = words[1]
        words = words[2:]
    if not words or words[0] not in ("run", "exec"):
        return None
    action, words = words[0], words[1:]
    entrypoint: list[str] | None = None
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option == "--entrypoint":
            entrypoint = [words[0]]
        if option in RUN_OPTIONS_WITH_VALUE:
            words.pop(0)
    service, words = bot_services(REPO / compose_file)[words[0]], words[1:]
    if action == "exec":
        return words
    if entrypoint is None:
        command = words or as_list(service.get("command", dockerfile_instruction("CMD")))
        return as_list(service.get("entrypoint", dockerfile_instruction("ENTRYPOINT"))) + command
    if entrypoint == ["sh"] and words[:1] == ["-c"]:
        return shlex.split(words[1])
    raise AssertionError(f"README line with an entrypoint this test does not know: {line}")


def test_the_readmes_compose_commands_parse():
    checked = []
    for line in readme_compose_commands():
        argv = compose_invocation(line)
        if argv is not None:
            assert parses(bot_arguments(argv)) is None, line
            checked.append(argv)
    # the single bot's sync, the cluster's db copy (through sh -c) and its sync
    assert any(argv[3:5] == ["db", "copy"] for argv in checked)
    assert sum(argv[3:4] == ["sync"] for argv in checked) >= 2
    assert ["python", "-m", "bot", "invite"] in checked


def compose_plugin() -> bool:
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60)
    return result.returncode == 0


@pytest.mark.skipif(not compose_plugin(), reason="the docker compose plugin is not installed")
@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_docker_compose_config_accepts_the_file_and_its_commands_parse(path):
    result = subprocess.run(
        ["docker", "compose", "-f", str(path), "--profile", "setup", "config", "--format",
         "json"], cwd=REPO, env={**os.environ, **COMPOSE_ENV}, capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name, spec in services.items():
        if "build" not in spec:
            continue
        argv = (spec.get("entrypoint") or dockerfile_instruction("ENTRYPOINT")) + (
            spec.get("command") or dockerfile_instruction("CMD"))
        assert parses(bot_arguments(argv)) is None, f"{path.name}: service {name}"
