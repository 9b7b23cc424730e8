"""The layout shows the layers: imports point down, never up, and never in a circle.

Read from the source with `ast` (no module is imported), counting every import: at the
top of a module, inside a function (the CLI's lazy imports), or under TYPE_CHECKING (for
the layers; a cycle is looked for among the imports that run).

    core < models < lessons < experiments < present < pad, tutor, exercises < cli

`bench` measures the whole package and may import anything; `fooldigits/__init__.py`
(FoolDigitsError) and `__main__.py` are below and above everything.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "fooldigits"
LAYERS = {"core": 0, "models": 1, "lessons": 2, "experiments": 3, "present": 4, "pad": 5,
          "tutor": 5, "exercises": 5, "cli": 6}
ANYTHING = ("bench", "__main__")  # may import from every layer
STUBS = PACKAGE / "exercises" / "stubs"  # the students' files: not part of the package


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def type_only(tree: ast.Module) -> set[int]:
    """The ids of import nodes under `if TYPE_CHECKING:`: read by mypy, never run."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return found


@functools.cache  # parsed once: the three tests read every module
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


@functools.cache
def imports(path: Path, runtime_only: bool = False) -> frozenset[str]:
    """Every fooldigits module `path` imports, anywhere in it, as full dotted names;
    with `runtime_only`, leaving out the imports for type annotations only."""
    tree = parse(path)
    skip = type_only(tree) if runtime_only else set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(
        ".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1],
                                 *([base] if base else [])])
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # may be modules
    return frozenset(name for name in found
                     if name == "fooldigits" or name.startswith("fooldigits."))


def modules(runtime_only: bool = False) -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports (that exist)."""
    paths = [p for p in PACKAGE.rglob("*.py") if STUBS not in p.parents]
    names = {module_name(p): p for p in paths}
    return {name: {i for i in imports(path, runtime_only) if i in names and i != name}
            for name, path in names.items()}


def layer(name: str) -> int | None:
    """The layer of module `name`; None for the top package and the free-for-all ones."""
    parts = name.split(".")
    if len(parts) < 2 or parts[1] in ANYTHING:
        return None
    return LAYERS[parts[1]]


def test_every_subpackage_has_a_layer() -> None:
    tops = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert tops - {"bench"} == set(LAYERS)


def test_no_module_imports_from_a_higher_layer() -> None:
    wrong = []
    for name, imported in modules().items():
        mine = layer(name)
        if mine is None:
            continue
        for other in imported:
            theirs = layer(other)
            if theirs is not None and (theirs > mine or (
                    theirs == mine and other.split(".")[1] != name.split(".")[1])):
                wrong.append(f"{name} imports {other}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycle() -> None:
    """No cycle among the imports that run (an annotation may name a type sideways under
    TYPE_CHECKING; the layer rule above holds for those too)."""
    graph = modules(runtime_only=True)
    for name in graph:  # a package imports its own modules: an edge down, not a cycle
        graph[name] = {m for m in graph[name] if not m.startswith(name + ".")}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt):], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_the_check_sees_function_level_imports() -> None:
    """The CLI imports the library inside its commands: those count."""
    assert "fooldigits.experiments.fooling" in modules()["fooldigits.cli.fooling"]
