"""The runtime never depends on the test emulator, and its files import each other in no circle.

`bot`, `cogs` and `recommender` are what a server runs; `emulator` is a fake Discord for tests,
the try-it console and benchmarks. Only `console/` (and tests, benchmarks) may import it, and
the console only once a session starts. Checked two ways: statically (every import statement in
the runtime's files, including ones inside functions) and at run time (importing the bot and
building its command line, console subcommand included, in a fresh interpreter).

No import circle among the files of `bot/`, `cogs/` and `recommender/`: every import counts
(at module level or inside a function), except those under `if TYPE_CHECKING:`, which never
run. A circle means neither module can be understood (or tested, or moved) without the other.

Storage: code outside `bot/storage` imports only its public names (`bot.storage`, plus
`bot.storage.bulk` and `bot.storage.models`), never a backend's modules, and the storage files
import each other in no circle (the package `__init__` included).
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


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The runtime modules (of `known`) a file imports at run time: relative imports resolved,
    `from package import submodule` as the submodule, `if TYPE_CHECKING:` blocks skipped."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    visit_one(other)
                continue
            visit_one(child)

    def visit_one(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
        visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return (found & known) - {module}


def import_graph(root: Path = REPO) -> dict[str, set[str]]:
    """{runtime module: the runtime modules it imports at run time}."""
    files = {_module_name(path, root): path for package in RUNTIME
             for path in sorted((root / package).rglob("*.py"))}
    known = set(files)
    return {module: _runtime_imports(path, module, known) for module, path in files.items()}


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each circle (strongly connected group of two or more modules), as one path that
    walks it: ["a", "b", "a"] means a imports b and b imports a."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                other = stack.pop()
                group.add(other)
                if other == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_walk(group, graph) for group in groups]


def _walk(group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest circle through the group's first module (breadth-first)."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for other in sorted(graph[node] & group):
            if other == start:
                return paths[node] + [start]
            if other not in paths:
                paths[other] = paths[node] + [other]
                queue.append(other)
    return sorted(group)  # unreachable for a strongly connected group


def test_no_import_circle_in_the_runtime() -> None:
    circles = import_circles(import_graph())
    assert circles == [], "import circles (move the shared part to a module both import, " \
        "or import under TYPE_CHECKING for annotations only):\n" + "\n".join(
            " -> ".join(circle) for circle in circles)


def test_the_circle_scan_sees_lazy_imports_and_skips_type_checking(tmp_path: Path) -> None:
    for package in RUNTIME:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "bot" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot import c\n"
        "def f():\n    from . import b\n")
    (tmp_path / "bot" / "b.py").write_text("import bot.a\n")
    (tmp_path / "bot" / "c.py").write_text("from bot.a import f\n")
    graph = import_graph(tmp_path)
    assert graph["bot.a"] == {"bot.b"} and graph["bot.c"] == {"bot.a"}
    assert import_circles(graph) == [["bot.a", "bot.b", "bot.a"]]


# What code outside bot/storage may import of it: the package's public names (`bot.storage`),
# the refit workers' synchronous calls and the row types. The backends (`sqlite/`,
# `postgres/`), the shared SQL and the contract module are the package's own business.
STORAGE_PUBLIC = {"bot.storage", "bot.storage.bulk", "bot.storage.models"}


def storage_leaks(graph: dict[str, set[str]]) -> list[str]:
    """"a imports b" for every module outside bot.storage importing a storage internal."""
    return sorted(f"{module} imports {other}" for module, imports in graph.items()
                  if not (module == "bot.storage" or module.startswith("bot.storage."))
                  for other in imports
                  if other.startswith("bot.storage.") and other not in STORAGE_PUBLIC)


def test_nothing_outside_storage_imports_its_backends() -> None:
    leaks = storage_leaks(import_graph())
    assert leaks == [], "import bot.storage's public names instead:\n" + "\n".join(leaks)


def test_the_storage_files_import_each_other_in_no_circle() -> None:
    """Also through the package itself: a backend importing `bot.storage` (whose __init__
    imports the backends) would be a circle."""
    graph = import_graph()
    storage = {module: {other for other in imports if other.startswith("bot.storage")}
               for module, imports in graph.items() if module.startswith("bot.storage")}
    assert {"bot.storage.sqlite", "bot.storage.postgres", "bot.storage.contract"} <= set(storage)
    assert import_circles(storage) == []


def test_the_storage_rules_see_a_leak_and_a_circle(tmp_path: Path) -> None:
    for package in (*RUNTIME, "bot/storage", "bot/storage/sqlite", "bot/service"):
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "bot" / "storage" / "__init__.py").write_text("from .sqlite import base\n")
    (tmp_path / "bot" / "storage" / "sqlite" / "base.py").write_text(
        "from bot.storage import Storage\n")
    (tmp_path / "bot" / "service" / "ratings.py").write_text(
        "from bot.storage.sqlite.base import X\nfrom bot.storage import models\n")
    (tmp_path / "bot" / "storage" / "models.py").write_text("")
    graph = import_graph(tmp_path)
    assert storage_leaks(graph) == ["bot.service.ratings imports bot.storage.sqlite.base"]
    assert import_circles(graph) == [["bot.storage", "bot.storage.sqlite.base", "bot.storage"]]


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


def test_the_bot_package_never_imports_the_cogs() -> None:
    """Cogs build on the bot, not the other way round: the bot loads them by name
    (`bot.client.EXTENSIONS`), and their error handler is an extension too
    (`cogs.error_handler`)."""
    found = [f"{path.relative_to(REPO)}:{line} imports {module}"
             for path in sorted((REPO / "bot").rglob("*.py"))
             for line, module in _imported_modules(path)
             if module == "cogs" or module.startswith("cogs.")]
    assert found == []


# (layer, what it must not import, why): the layers of docs/architecture.md, checked.
LAYER_RULES = (
    ("cogs", ("bot.storage",), "cogs call services; storage is the services' business"),
    ("bot.domain", ("bot.service", "bot.storage", "cogs", "bot.client", "recommender"),
     "domain rules are pure"),
    ("bot.storage", ("bot.service", "cogs", "bot.client"), "storage knows no caller"),
    ("bot.service", ("cogs", "bot.client"), "services know no Discord command or view"),
    ("recommender", ("bot", "cogs"), "the recommender is pure numpy/scipy"),
)
# The recommender's evaluation command line reads datasets with the prior's readers.
LAYER_EXCEPTIONS = {("recommender.evaluate", "bot.prior.evaluation"),
                    ("recommender.evaluate", "bot.prior.readers")}


def layer_breaches(graph: dict[str, set[str]]) -> list[str]:
    def within(module: str, prefix: str) -> bool:
        return module == prefix or module.startswith(prefix + ".")

    return sorted(f"{module} imports {other} ({why})"
                  for layer, forbidden, why in LAYER_RULES
                  for module, imports in graph.items() if within(module, layer)
                  for other in imports
                  if any(within(other, f) for f in forbidden)
                  and (module, other) not in LAYER_EXCEPTIONS)


def test_each_layer_imports_only_what_is_below_it() -> None:
    breaches = layer_breaches(import_graph())
    assert breaches == [], "\n".join(breaches)


def test_the_layer_rules_see_a_breach() -> None:
    graph = {"cogs.rating": {"bot.storage", "bot.service"}, "bot.domain.scores": set(),
             "recommender.model": {"bot.domain.scores"}}
    assert layer_breaches(graph) == [
        "cogs.rating imports bot.storage (cogs call services; storage is the services' "
        "business)",
        "recommender.model imports bot.domain.scores (the recommender is pure numpy/scipy)"]


# The recommender's public names: what code outside it may import (issue 22 item 3). Its
# modules are the recommender's own business; the bot's services and workers use the few
# documented entry points below, and the cogs none at all (they call services).
RECOMMENDER_PUBLIC = {"recommender", "recommender.prior", "recommender.reasons",
                      "recommender.tuning", "recommender.embeddings"}


def recommender_leaks(graph: dict[str, set[str]]) -> list[str]:
    """"a imports b" for every cog importing anything of the recommender, and every other
    module outside it importing one of its internals."""
    out = []
    for module, imports in graph.items():
        if module == "recommender" or module.startswith("recommender."):
            continue
        for other in imports:
            if not (other == "recommender" or other.startswith("recommender.")):
                continue
            if module.startswith("cogs") or other not in RECOMMENDER_PUBLIC:
                out.append(f"{module} imports {other}")
    return sorted(out)


def test_cogs_never_import_the_recommender_nor_others_its_internals() -> None:
    leaks = recommender_leaks(import_graph())
    assert leaks == [], "call a service (cogs) or the recommender's public names:\n" + \
        "\n".join(leaks)


# A model's learned vectors are read through `CFModel.embeddings()`, never as the arrays
# `model.X` / `model.T` (their names, layout and dtype are the model's business).
MODEL_ARRAYS = {"X", "T"}


def model_array_reads(root: Path = REPO) -> list[str]:
    """file:line for every `<anything>.X` / `<anything>.T` attribute read in bot/ and cogs/
    (numpy's transpose is written np.transpose there, so the rule needs no type analysis)."""
    found = []
    for package in ("bot", "cogs"):
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            found.extend(f"{path.relative_to(root)}:{node.lineno} reads .{node.attr}"
                         for node in ast.walk(tree)
                         if isinstance(node, ast.Attribute) and node.attr in MODEL_ARRAYS)
    return found


def test_services_read_the_model_through_its_embedding_api() -> None:
    reads = model_array_reads()
    assert reads == [], "use CFModel.embeddings() (np.transpose for a transpose):\n" + \
        "\n".join(reads)


def test_the_recommender_rules_see_a_leak_and_an_array_read(tmp_path: Path) -> None:
    graph = {"cogs.taste": {"recommender"}, "bot.service.pictures": {"recommender.model"},
             "bot.service.worker": {"recommender", "recommender.tuning"},
             "recommender.model": {"recommender.implicit"}}
    assert recommender_leaks(graph) == ["bot.service.pictures imports recommender.model",
                                        "cogs.taste imports recommender"]
    for package in ("bot", "cogs"):
        (tmp_path / package).mkdir()
    (tmp_path / "bot" / "taste.py").write_text("def f(model):\n    return model.X @ model.T\n")
    assert model_array_reads(tmp_path) == ["bot/taste.py:2 reads .X", "bot/taste.py:2 reads .T"]
