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


def _requirement_name(text: str) -> str:
    return re.split(r"[<>=!~;\[ ]", text.strip(), maxsplit=1)[0].lower().replace("_", "-") \
        .replace(".", "-")


def test_base_image_is_pinned_by_digest_and_dependencies_by_a_hashed_lock():
    steps = instructions((REPO / "Dockerfile").read_text())
    assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", steps[0][1])
    runs = [v for k, v in steps if k == "RUN"]
    copies = [v for k, v in steps if k == "COPY"]
    assert copies[0] == "requirements.lock ./"  # before the code: a cached dependency layer
    assert runs[0] == "pip install --require-hashes --no-deps -r requirements.lock"
    assert any(r.startswith("pip install --no-deps .") for r in runs)
    # The lock pins every dependency pyproject.toml declares, each with hashes.
    lock = (REPO / "requirements.lock").read_text()
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^ \\]+)", lock, re.MULTILINE))
    declared = re.search(r"^dependencies = \[(.*?)^\]", (REPO / "pyproject.toml").read_text(),
                         re.MULTILINE | re.DOTALL).group(1)
    for requirement in re.findall(r'^\s*"([^"]+)"', declared, re.MULTILINE):
        assert _requirement_name(requirement) in pins, requirement
    entries = re.split(r"^(?=[a-z0-9])", lock, flags=re.MULTILINE)
    assert all("--hash=sha256:" in e for e in entries if re.match(r"[a-z0-9].*==", e))


def test_healthcheck_runs_the_health_command():
    steps = instructions((REPO / "Dockerfile").read_text())
    (check,) = [v for k, v in steps if k == "HEALTHCHECK"]
    assert check.endswith('CMD ["python", "-m", "bot", "health"]')
    assert "--start-period=" in check
    # It reads the database the image uses (the status file lives next to it, on /data).
    assert any(k == "ENV" and "MOVIEBOT_DATABASE=/data/" in v for k, v in steps)


def test_systemd_unit_runs_the_bot_and_stops_it_cleanly():
    unit = (REPO / "docs" / "moviebot.service").read_text()
    assert re.search(r"^ExecStart=\S+ -m bot .*run$", unit, re.MULTILINE)
    assert "KillSignal=SIGTERM" in unit and "Restart=on-failure" in unit
    # Exit codes that a restart cannot fix: configuration error (2), Discord refused (78).
    assert re.search(r"^RestartPreventExitStatus=2 78$", unit, re.MULTILINE)
    assert "User=moviebot" in unit and "StateDirectory=moviebot" in unit
    from bot.__main__ import EXIT_CONFIG, EXIT_DISCORD_REFUSED

    assert (EXIT_CONFIG, EXIT_DISCORD_REFUSED) == (2, 78)


def test_readme_documents_upgrades_systemd_and_the_container_uid():
    readme = (REPO / "README.md").read_text()
    operations = (REPO / "docs" / "operations.md").read_text()  # the README links it
    for heading in ("## Upgrading", "## Docker"):
        assert re.search(rf"^{re.escape(heading)}$", readme, re.MULTILINE), heading
    assert "docs/operations.md" in readme
    assert re.search(r"^## Running under systemd$", operations, re.MULTILINE)
    assert "docs/moviebot.service" in operations
    assert "10001" in readme  # the container's uid must be able to read a mounted config
    uid = re.search(r"--uid (\d+)", (REPO / "Dockerfile").read_text()).group(1)
    assert uid == "10001"
