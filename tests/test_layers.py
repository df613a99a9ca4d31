"""The floor plan: every import of the package points down the layer order of DESIGN.md, and no
two files import each other in a circle (read from the source with `ast`, imports inside
functions included, `if TYPE_CHECKING:` blocks excepted)."""

from __future__ import annotations

import ast
from pathlib import Path

import physioemo

PACKAGE = Path(physioemo.__file__).parent
#: bottom to top; top-level modules (recording.py, windows.py, ...) are core
LAYERS = (
    "core",
    "io",
    "features",
    "datasets",
    "models",
    "training",
    "protocols",
    "evaluation",
    "experiment",
    "live",
    "cli",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    """physioemo itself (the package's face) sits with the cli, on top."""
    parts = module.split(".")
    if len(parts) == 1:
        return LAYERS.index("cli")
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else 0


def is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    return skipped


def imported(path: Path) -> set[str]:
    """The physioemo modules `path` imports ("from . import x" names module x when it is one)."""
    module = module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    tree = ast.parse(path.read_text())
    skipped = type_checking_nodes(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "physioemo"}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            if target.split(".")[0] != "physioemo":
                continue
            for alias in node.names:
                child = f"{target}.{alias.name}"
                found.add(child if is_module(child) else target)
    return found - {module}


def import_graph() -> dict[str, set[str]]:
    return {module_name(path): imported(path) for path in sorted(PACKAGE.rglob("*.py"))}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_every_import_points_down():
    climbing = [
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if layer(target) > layer(module)
    ]
    assert climbing == []


def test_no_circle_of_files():
    assert cycles(import_graph()) == []


def test_the_checks_can_fail():
    """The walker sees imports inside functions and relative ones, and finds a circle."""
    assert "physioemo.training.estimator" in imported(PACKAGE / "experiment" / "jobs.py")
    assert layer("physioemo.windows") < layer("physioemo.features.recipes") < layer("physioemo")
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
