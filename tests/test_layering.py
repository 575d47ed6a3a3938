"""The runtime never depends on the test emulator.

`bot`, `cogs` and `recommender` are what a server runs; `emulator` is a fake Discord for tests,
the try-it console and benchmarks. Only `console/` (and tests, benchmarks) may import it, and
the console only once a session starts. Checked two ways: statically (every import statement in
the runtime's files, including ones inside functions) and at run time (importing the bot and
building its command line, console subcommand included, in a fresh interpreter).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUNTIME = ("bot", "cogs", "recommender")
# Where importing the emulator is allowed: itself, and what is not part of the running bot.
MAY_IMPORT_EMULATOR = {"emulator", "console", "tests", "benchmarks"}


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import statement in a file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _emulator_imports(package: str) -> list[str]:
    return [f"{path.relative_to(REPO)}:{line} imports {module}"
            for path in sorted((REPO / package).rglob("*.py"))
            for line, module in _imported_modules(path)
            if module == "emulator" or module.startswith("emulator.")]


@pytest.mark.parametrize("package", RUNTIME)
def test_runtime_packages_never_import_the_emulator(package: str) -> None:
    assert (REPO / package / "__init__.py").exists()
    assert _emulator_imports(package) == []


def test_only_the_console_tests_and_benchmarks_import_the_emulator() -> None:
    """Any top-level package added later is held to the same rule as the runtime."""
    packages = sorted(p.name for p in REPO.iterdir()
                      if (p / "__init__.py").exists() and p.name not in MAY_IMPORT_EMULATOR)
    assert set(RUNTIME) <= set(packages)
    assert {p: found for p in packages if (found := _emulator_imports(p))} == {}


def test_the_scan_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from emulator.world import World\n    import emulator\n")
    assert [m for _, m in _imported_modules(sample)] == ["emulator.world", "emulator"]


def test_starting_the_bot_does_not_load_the_emulator() -> None:
    """Importing the client and the CLI and building the parser (which registers the console
    subcommand) leaves `emulator` unimported."""
    code = (
        "import json, sys\n"
        "import bot.client, bot.__main__\n"
        "bot.__main__.build_parser().parse_args(['console'])\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "                        if m == 'emulator' or m.startswith('emulator.'))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MOVIEBOT_CONFIG", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, env=env, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == []
