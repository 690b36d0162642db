"""The project's modules import each other without a cycle (imports for type checking
only are left out: they never run), no connector imports another (code two connectors need
lives once in leadkit), and no production package imports the sandbox."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "leadkit",
    "tap_popl",
    "tap_wisepops",
    "tap_ghl",
    "tap_popin",
    "target_ghl",
    "target_popin",
    "sandbox",
    "lead_relay",
    "orchestration",
)
CONNECTORS = ("tap_popl", "tap_wisepops", "tap_ghl", "tap_popin", "target_ghl", "target_popin")
#: What a production install holds: the sandbox is an optional extra, for tests and demos.
PRODUCTION = tuple(package for package in PACKAGES if package != "sandbox")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Top-level imports, skipping `if TYPE_CHECKING:` blocks."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            found += [n for n in node.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in _runtime_imports(ast.parse(path.read_text())):
            targets = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [f"{node.module}.{alias.name}" for alias in node.names] + [str(node.module)]
            )
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == 1:
                return [*stack[stack.index(child) :], child]
            if child not in state and (found := visit(child)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle() -> None:
    assert _cycle(_graph()) is None


def _imported_packages(path: Path) -> set[str]:
    """Top-level packages a module imports anywhere, type-checking imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.partition(".")[0])
    return found


def test_no_connector_imports_another_connector() -> None:
    crossings = [
        f"{path.relative_to(ROOT)} imports {other}"
        for package in CONNECTORS
        for path in sorted((ROOT / package).rglob("*.py"))
        for other in sorted(_imported_packages(path) & set(CONNECTORS) - {package})
    ]
    assert crossings == []


def test_no_production_package_imports_the_sandbox() -> None:
    graph = _graph()
    importers = {
        name: sorted(target for target in targets if target.split(".")[0] == "sandbox")
        for name, targets in graph.items()
        if name.split(".")[0] in PRODUCTION
    }
    assert {name: found for name, found in importers.items() if found} == {}
