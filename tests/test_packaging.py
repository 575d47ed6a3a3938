"""The Dockerfile and compose file, checked by construction (no Docker engine here)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_is_slim_non_root_with_a_data_volume():
    steps = instructions((REPO / "Dockerfile").read_text())
    keywords = [k for k, _ in steps]
    assert steps[0][0] == "FROM" and "slim" in steps[0][1]
    assert re.match(r"python:3\.1[1-9]", steps[0][1])
    users = [v for k, v in steps if k == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")
    assert any(k == "VOLUME" and "/data" in v for k, v in steps)
    assert any(k == "ENV" and "MOVIEBOT_DATABASE=/data/" in v for k, v in steps)
    assert ("ENTRYPOINT", '["python", "-m", "bot"]') in steps
    for keyword, value in steps:
        if keyword == "COPY":
            for source in value.split()[:-1]:
                assert (REPO / source).exists(), f"COPY source {source} is missing"


def test_dockerfile_copies_every_package_the_project_declares():
    text = (REPO / "Dockerfile").read_text()
    declared = re.search(r'include = \[(.*?)\]', (REPO / "pyproject.toml").read_text()).group(1)
    for package in re.findall(r'"(\w+)\*"', declared):
        assert f"COPY {package} ./{package}" in text


def test_compose_keeps_the_database_on_a_volume_and_the_token_out_of_the_file():
    text = (REPO / "docker-compose.yml").read_text()
    assert "moviebot-data:/data" in text
    assert "DISCORD_TOKEN: ${DISCORD_TOKEN" in text
    assert "stop_signal: SIGTERM" in text
    assert re.search(r"^volumes:\n  moviebot-data:", text, re.MULTILINE)
