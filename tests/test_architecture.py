"""The import contract: one-way floors, no cycles, no command importing a command.

An AST walk over every module under ``geoplan/`` (no new dependency, nothing is
imported or executed). Every ``import`` counts, including those inside functions:
a lazy import is still a dependency. Only imports under ``if TYPE_CHECKING:`` are
skipped (they exist for mypy and never run). ``docs/architecture.md`` draws the same
table as ``LAYERS`` below; change both together.

The checker is tested on a tiny synthetic package in ``tmp_path`` with a planted
upward import, cycle and command-to-command import, so the contract cannot pass
vacuously.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

GEOPLAN = Path(__file__).resolve().parents[1] / "geoplan"

# The floors, lowest first. A module may import from any floor below its own and from
# its own component (``geoplan.<component>``); components on the same floor are
# siblings and import nothing from each other. Where a component sits follows from
# what it imports today (its lowest floor that fits), except where the order
# (io -> network -> reach -> audit -> siting/grids -> render -> report -> cli) places
# it higher on purpose.
LAYERS: tuple[tuple[str, ...], ...] = (
    # 0: InputError and the warnings, the type aliases of signatures (_types: its
    #    imports are for type checking only) and the phase timer (_timing: perf_counter
    #    to a logger); import no geoplan module at run time.
    ("_errors", "_types", "_timing"),
    # 1: leaves: data and maths over _errors only. households sits here, not beside io:
    #    it imports only _errors (profile parameters arrive as an object).
    ("crs", "categories", "profiles", "households"),
    # 2: readers and writers; io.osm needs crs and categories, the POI reader categories.
    ("io",),
    # 3: network builds on io.osm / io.write. sample (the demo district) writes through
    #    io.write and imports nothing else, so it sits beside network, not beside io.
    ("network", "sample"),
    # 4: both need only the network: reach (Dijkstra, service areas) and alignment (do
    #    the layers and the network line up? it snaps points, it never walks). alignment
    #    is not an audit: audit.coverage and siting.sites call it before they walk.
    ("reach", "alignment"),
    # 5: the audits: reach + alignment + profiles + io.
    ("audit",),
    # 6: siting calls audit.coverage and reach. grids needs only households and
    #    profiles, but the issue puts it with siting; kept there, so it may grow into
    #    reach or the audits without breaching a floor. areas runs the coverage audit's
    #    walking passes area by area (reach, network windows) and merges them into one
    #    audit_coverage call.
    ("siting", "grids", "areas"),
    # 7: maps of any frame that follows the column contracts; needs only io.write, crs
    #    and categories (never the audits or reach), kept at the floor.
    ("render",),
    # 8: report documents and the gap maps built from audit results (report.maps, once
    #    cli/_maps.py): render + profiles + categories + households + io.write. It takes
    #    audit results as objects and imports no audit, but sits above render.
    ("report",),
    # 9: the command line: the only place that configures logging and exit codes.
    ("cli",),
    # 10: the root package re-exports the public API lazily (importlib, not ``import``),
    #     and ``python -m geoplan`` (__main__) runs the command line;
    #     no module may import ``geoplan`` itself.
    ("geoplan", "__main__"),
)

# Private root modules that belong to a component. Empty since issue 11 moved _snap and
# _gates into network/ and _augment into reach/; a private module that serves one
# component belongs in its package.
MEMBERS: Mapping[str, str] = {}

# cli modules that are not commands: shared pieces every command may import. _main is
# the registry: the only module allowed to import the command modules.
CLI_REGISTRY = "_main"

# Strongly connected import groups allowed while being untangled: a cycle inside one of
# these sets passes, any other fails. Empty since the profiles were split into schema
# -> validation -> model (issue 11 item 1); keep it empty.
KNOWN_CYCLES: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True)
class Edge:
    """One import: ``source`` module imports ``target`` module at ``path:line``."""

    source: str
    target: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} -> {self.target}"


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module under ``root`` (the package folder) by dotted name."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join([package, *parts])] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in ``node``, at any depth, but not under TYPE_CHECKING."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    elif isinstance(node, ast.If) and _is_type_checking(node.test):
        for sub in node.orelse:  # the else branch does run
            yield from _imports(sub)
    else:
        for child in ast.iter_child_nodes(node):
            yield from _imports(child)


def _existing(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module ``name`` names, or its longest existing parent package."""
    parts = name.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in modules:
            return cand
        parts.pop()
    return None


def import_edges(root: Path, package: str) -> list[Edge]:
    """Every import from one module of ``package`` to another (self-imports dropped)."""
    modules = module_names(root, package)
    edges: list[Edge] = []
    for mod, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        here = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    stem = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    stem = node.module or ""
                # ``from pkg import sub`` depends on pkg.sub when it is a module
                targets = [
                    f"{stem}.{a.name}" if f"{stem}.{a.name}" in modules else stem
                    for a in node.names
                ]
            for name in targets:
                if name != package and not name.startswith(package + "."):
                    continue
                target = _existing(name, modules)
                if target is not None and target != mod:
                    rel = path.relative_to(root.parent).as_posix()
                    edges.append(Edge(mod, target, rel, node.lineno))
    return list(dict.fromkeys(edges))  # ``from m import a, b``: one edge


def component(module: str, package: str, members: Mapping[str, str]) -> str:
    """``geoplan.io.readers`` -> ``io``; the root package is its own component."""
    parts = module.split(".")
    if len(parts) == 1:
        return package
    return members.get(parts[1], parts[1])


def floor_violations(
    edges: Sequence[Edge],
    *,
    package: str,
    layers: Sequence[Sequence[str]],
    members: Mapping[str, str],
) -> list[str]:
    """Imports that go up a floor, or across to a sibling on the same floor."""
    floor = {name: i for i, layer in enumerate(layers) for name in layer}
    out = []
    for e in edges:
        a, b = component(e.source, package, members), component(e.target, package, members)
        if a == b:
            continue
        fa, fb = floor.get(a), floor.get(b)
        if fa is None or fb is None:
            out.append(f"{e}: {a if fa is None else b!r} has no floor in LAYERS")
        elif fb > fa:
            out.append(f"{e}: upward ({a} on floor {fa} imports {b} on floor {fb})")
        elif fb == fa:
            out.append(f"{e}: sideways ({a} and {b} are siblings on floor {fa})")
    return out


def cycles(edges: Sequence[Edge]) -> list[set[str]]:
    """Strongly connected groups of two or more modules (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    group.add(m)
                    if m == node:
                        break
                if len(group) > 1:
                    found.append(group)
    return found


def command_imports(edges: Sequence[Edge], *, package: str) -> list[str]:
    """cli modules (other than the registry) importing a command module."""
    cli = f"{package}.cli."

    def is_command(module: str) -> bool:
        return module.startswith(cli) and not module[len(cli) :].split(".")[0].startswith("_")

    return [
        f"{e}: a command module imported by {e.source} (share it via an underscore module)"
        for e in edges
        if is_command(e.target) and e.source != f"{cli}{CLI_REGISTRY}"
    ]


def unplaced(root: Path, package: str) -> list[str]:
    """Components under ``root`` that LAYERS does not place."""
    placed = {name for layer in LAYERS for name in layer}
    names = {component(m, package, MEMBERS) for m in module_names(root, package)}
    return sorted(names - placed)


# --- the contract on geoplan ---------------------------------------------------------


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    found = import_edges(GEOPLAN, "geoplan")
    assert len(found) > 100, "the walk found almost no imports: is GEOPLAN right?"
    return found


def test_every_component_has_a_floor() -> None:
    assert unplaced(GEOPLAN, "geoplan") == []


def test_no_upward_or_sideways_import(edges: list[Edge]) -> None:
    bad = floor_violations(edges, package="geoplan", layers=LAYERS, members=MEMBERS)
    assert bad == [], "imports against the floors:\n" + "\n".join(bad)


def test_no_import_cycle(edges: list[Edge]) -> None:
    bad = [sorted(g) for g in cycles(edges) if not any(g <= known for known in KNOWN_CYCLES)]
    assert bad == [], f"import cycles: {bad}"


def test_no_command_imports_a_command(edges: list[Edge]) -> None:
    bad = command_imports(edges, package="geoplan")
    assert bad == [], "\n".join(bad)


def test_docs_draw_the_same_floors() -> None:
    doc = (GEOPLAN.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = {
        int(cells[1]): cells[2]
        for line in doc.splitlines()
        if line.startswith("| ") and (cells := [c.strip() for c in line.split("|")])[1].isdigit()
    }
    assert sorted(rows) == list(range(len(LAYERS))), "docs/architecture.md: one row per floor"
    for i, layer in enumerate(LAYERS):
        drawn = {w.strip("` ") for w in rows[i].split(",")}
        assert drawn == set(layer), f"floor {i}: docs say {sorted(drawn)}, the test {layer}"


# --- the checker itself, on a synthetic tree -------------------------------------------


def _tree(tmp_path: Path, files: Mapping[str, str]) -> Path:
    root = tmp_path / "pkg"
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


_SYNTH_LAYERS = (("_errors",), ("io",), ("network",), ("cli",), ("pkg",))
_CLEAN = {
    "__init__.py": "",
    "_errors.py": "",
    "io/__init__.py": "",
    "io/readers.py": "from pkg._errors import InputError\nfrom . import columns\n",
    "io/columns.py": "",
    "network.py": "from pkg.io import readers\n",
    "cli/__init__.py": "from pkg.cli._main import main\n",
    "cli/_main.py": "def _register():\n    from pkg.cli import build, site\n",
    "cli/_common.py": "import pkg.network\n",
    "cli/build.py": "from pkg.cli._common import x\n",
    "cli/site.py": "from pkg.cli import _common\n",
}


def _check(root: Path) -> tuple[list[str], list[set[str]], list[str]]:
    e = import_edges(root, "pkg")
    return (
        floor_violations(e, package="pkg", layers=_SYNTH_LAYERS, members={}),
        cycles(e),
        command_imports(e, package="pkg"),
    )


def test_checker_passes_a_clean_tree(tmp_path: Path) -> None:
    root = _tree(tmp_path, _CLEAN)
    edges = import_edges(root, "pkg")
    assert ("pkg.io.readers", "pkg.io.columns") in {(e.source, e.target) for e in edges}
    assert _check(root) == ([], [], [])


def test_checker_fails_on_a_planted_upward_import(tmp_path: Path) -> None:
    # inside a function, as lazy imports are: still a dependency
    bad = "def f():\n    from pkg.network import WalkNetwork\n"
    root = _tree(tmp_path, {**_CLEAN, "io/columns.py": bad})
    floors, _, _ = _check(root)
    assert floors == [
        "pkg/io/columns.py:2: pkg.io.columns -> pkg.network: upward "
        "(io on floor 1 imports network on floor 2)"
    ]


def test_checker_skips_type_checking_only(tmp_path: Path) -> None:
    text = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg.network import WalkNetwork\n"
        "else:\n    import pkg.cli\n"
    )
    root = _tree(tmp_path, {**_CLEAN, "io/columns.py": text})
    floors, _, _ = _check(root)
    assert len(floors) == 1 and "pkg.io.columns -> pkg.cli: upward" in floors[0]


def test_checker_fails_on_a_cycle_and_a_command_import(tmp_path: Path) -> None:
    files = {
        **_CLEAN,
        "io/columns.py": "from pkg.io.readers import read\n",
        "cli/site.py": "from pkg.cli.build import helper\n",
    }
    floors, found, commands = _check(_tree(tmp_path, files))
    assert floors == []
    assert found == [{"pkg.io.readers", "pkg.io.columns"}]
    assert len(commands) == 1 and "pkg.cli.site -> pkg.cli.build" in commands[0]


def test_checker_fails_on_a_sibling_import(tmp_path: Path) -> None:
    files = {**_CLEAN, "crs.py": "from pkg import categories\n", "categories.py": ""}
    e = import_edges(_tree(tmp_path, files), "pkg")
    layers = (("_errors",), ("crs", "categories"), ("io",), ("network",), ("cli",), ("pkg",))
    bad = floor_violations(e, package="pkg", layers=layers, members={})
    assert bad == [
        "pkg/crs.py:1: pkg.crs -> pkg.categories: sideways "
        "(crs and categories are siblings on floor 1)"
    ]


def private_imports(root: Path, package: str) -> list[str]:
    """``from pkg.mod import _name`` of a private name that is not a module.

    A private module (``_segment_grid``) may be imported by its package; what a
    sibling needs from it is public within the package, so an underscore always
    means "this module only".
    """
    modules = module_names(root, package)
    found = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if node.module.split(".")[0] != package:
                continue
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and f"{node.module}.{alias.name}" not in modules:
                    found.append(f"{name}: from {node.module} import {alias.name}")
    return found


def test_no_private_name_crosses_a_module() -> None:
    assert private_imports(GEOPLAN, "geoplan") == []


def test_checker_finds_a_private_name_import(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "io/_excel.py": "def _read(): pass\n",
            "io/readers.py": "from pkg.io._excel import _read\nfrom pkg.io import _excel\n",
        },
    )
    assert private_imports(root, "pkg") == ["pkg.io.readers: from pkg.io._excel import _read"]


#: Issue 11: at most this many parameters may be typed with ``Any`` (bare or inside,
#: e.g. ``dict[str, Any]``); prefer the real type, ``object`` plus narrowing, or an alias
#: of geoplan._types.
MAX_ANY_PARAMETERS = 25


def any_parameters(root: Path, package: str) -> list[str]:
    """``module:line function(parameter: annotation)`` of every parameter typed with Any."""
    found = []
    for name, path in module_names(root, package).items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            a = node.args
            params = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
            for p in params:
                if p is None or p.annotation is None:
                    continue
                text = ast.unparse(p.annotation)
                if re.search(r"\bAny\b", text):
                    found.append(f"{name}:{node.lineno} {node.name}({p.arg}: {text})")
    return found


def test_few_parameters_typed_any() -> None:
    found = any_parameters(GEOPLAN, "geoplan")
    bare = [f for f in found if f.endswith(": Any)")]
    assert bare == [], "parameters typed bare Any:\n" + "\n".join(bare)
    assert len(found) <= MAX_ANY_PARAMETERS, "\n".join(found)


#: No module longer than this (issue 11): one job per module, read in one sitting.
MAX_MODULE_LINES = 700


def test_no_module_over_700_lines() -> None:
    sizes = {
        str(p.relative_to(GEOPLAN.parent)): len(p.read_text(encoding="utf-8").splitlines())
        for p in sorted(GEOPLAN.rglob("*.py"))
    }
    long = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them): {long}"
    assert len(sizes) > 100  # the walk found the package
