"""The Unraid template `unraid/moviebot.xml` (issue 27, item 4), checked against the fields of
Unraid's container template (version 2): every Container field an admin sees, every Config
entry well-formed, the token masked, and every variable it sets one the bot reads (and reads to
the effect the template says)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bot.config import DEFAULT_METRICS_PORT, default_settings

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "unraid" / "moviebot.xml"
# The Container fields Unraid's template editor and Community Applications read.
FILLED = ("Name", "Repository", "Registry", "Network", "Shell", "Privileged", "Support",
          "Project", "Overview", "Category", "TemplateURL", "Icon")
PRESENT = (*FILLED, "WebUI", "ExtraParams")  # WebUI empty: the bot has no web page
CONFIG_ATTRIBUTES = ("Name", "Target", "Default", "Mode", "Description", "Type", "Display",
                     "Required", "Mask")
TYPES = {"Path", "Variable", "Port", "Device", "Label"}
DISPLAYS = {"always", "advanced", "always-hide", "advanced-hide"}
URL_FIELDS = ("Registry", "Support", "Project", "TemplateURL", "Icon")


@pytest.fixture(scope="module")
def container() -> ET.Element:
    root = ET.parse(TEMPLATE).getroot()
    assert root.tag == "Container" and root.get("version") == "2"
    return root


def configs(container: ET.Element, kind: str | None = None) -> list[ET.Element]:
    return [c for c in container.findall("Config") if kind is None or c.get("Type") == kind]


def variables_the_bot_reads() -> set[str]:
    """DISCORD_TOKEN and every MOVIEBOT_ name written out in the bot's code."""
    names = {"DISCORD_TOKEN"}
    for path in (REPO / "bot").rglob("*.py"):
        names |= set(re.findall(r'"(MOVIEBOT_[A-Z0-9_]+)"', path.read_text(encoding="utf-8")))
    return names


def test_every_container_field_is_there(container):
    for name in PRESENT:
        assert container.find(name) is not None, f"<{name}> missing"
    for name in FILLED:
        assert (container.findtext(name) or "").strip(), f"<{name}> is empty"
    assert container.findtext("Name") == "moviebot"
    assert container.findtext("Network") in {"bridge", "host", "none"}
    assert container.findtext("Privileged") == "false"
    assert container.findtext("Shell") in {"sh", "bash"}
    assert re.fullmatch(r"(\w+:[\w ]*\s?)+", container.findtext("Category") or "")
    for name in URL_FIELDS:
        assert (container.findtext(name) or "").startswith("https://"), name
    assert "<" not in (container.findtext("Overview") or "")  # Unraid's markup is [br]


def test_the_image_the_icon_and_the_template_url_point_into_this_project(container):
    assert re.fullmatch(r"ghcr\.io/[a-z0-9-]+/moviebot:latest", container.findtext("Repository")
                        .lower())
    assert container.findtext("TemplateURL").endswith("/main/unraid/moviebot.xml")
    icon = re.search(r"/main/(.+)$", container.findtext("Icon")).group(1)
    assert (REPO / icon).is_file(), icon
    workflow = (REPO / ".github" / "workflows" / "image.yml").read_text(encoding="utf-8")
    assert "IMAGE=ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/moviebot" in workflow


def test_every_config_entry_is_well_formed(container):
    entries = configs(container)
    assert entries
    for entry in entries:
        missing = [a for a in CONFIG_ATTRIBUTES if entry.get(a) is None]
        assert not missing, (entry.get("Name"), missing)
        assert entry.get("Type") in TYPES and entry.get("Display") in DISPLAYS
        assert entry.get("Required") in {"true", "false"} and entry.get("Mask") in {"true",
                                                                                    "false"}
        assert entry.get("Name").strip() and entry.get("Description").strip()
        if entry.get("Type") == "Path":
            assert entry.get("Mode") in {"rw", "ro", "rw,slave", "ro,slave", "rw,shared"}
            assert entry.get("Target").startswith("/")
        if entry.get("Type") == "Port":
            assert entry.get("Mode") in {"tcp", "udp"} and entry.get("Target").isdigit()
    targets = [e.get("Target") for e in entries]
    assert len(targets) == len(set(targets))


def test_the_data_volume_the_token_the_config_path_and_the_metrics_port(container):
    (data,) = [e for e in configs(container, "Path") if e.get("Target") == "/data"]
    assert data.get("Required") == "true" and data.get("Mode") == "rw"
    assert data.text == data.get("Default") == "/mnt/user/appdata/moviebot"
    assert 'VOLUME ["/data"]' in (REPO / "Dockerfile").read_text(encoding="utf-8")
    variables = {e.get("Target"): e for e in configs(container, "Variable")}
    token = variables["DISCORD_TOKEN"]
    assert token.get("Mask") == "true" and token.get("Required") == "true"
    assert not (token.text or "").strip() and not token.get("Default")  # no token shipped
    assert variables["MOVIEBOT_TMDB_API_KEY"].get("Mask") == "true"
    assert variables["MOVIEBOT_DATABASE"].text.startswith("/data/")
    (config,) = [e for e in configs(container, "Path") if e.get("Target") == "/config"]
    assert config.get("Mode") == "ro"
    assert "/config/config.toml" in variables["MOVIEBOT_CONFIG"].get("Description")
    (port,) = configs(container, "Port")
    assert port.get("Target") == port.get("Default") == str(DEFAULT_METRICS_PORT)


def test_every_variable_it_sets_is_one_the_bot_reads(container, monkeypatch):
    read = variables_the_bot_reads()
    assert {"MOVIEBOT_DATABASE", "MOVIEBOT_CONFIG", "MOVIEBOT_TMDB_API_KEY"} <= read
    set_here = {e.get("Target") for e in configs(container, "Variable")}
    assert set_here - read == set()
    # And the bot reads them to the effect the template describes.
    for name in read:
        monkeypatch.delenv(name, raising=False)
    for entry in configs(container, "Variable"):
        value = (entry.text or entry.get("Default") or "").strip()
        if value:
            monkeypatch.setenv(entry.get("Target"), value)
    monkeypatch.setenv("DISCORD_TOKEN", "a.b.c")
    monkeypatch.setenv("MOVIEBOT_TMDB_API_KEY", "key")
    settings = default_settings()
    assert settings.token == "a.b.c" and settings.tmdb.api_key == "key"
    assert str(settings.database) == "/data/moviebot.sqlite3"


def test_it_runs_unprivileged_with_a_read_only_root(container):
    params = (container.findtext("ExtraParams") or "").split()
    assert "--read-only" in params and params[params.index("--tmpfs") + 1] == "/tmp"
    assert params[params.index("--user") + 1] == "99:100"  # Unraid's nobody:users
    assert "--privileged" not in params and not any(p.startswith("--cap-add") for p in params)
