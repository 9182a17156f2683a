"""The package's layers import only downward and never in a circle (the graph drawn in README.md, Design)."""
import ast
from pathlib import Path

from kb.core.config import ROOT

# layer -> the layers it may import (besides itself); app.py and page/ sit on top of everything
ALLOWED = {
    "kb.core": set(),
    "kb.retrieval": {"kb.core"},
    "kb.answering": {"kb.core", "kb.retrieval"},
    "kb.knowledge": {"kb.core", "kb.retrieval", "kb.answering"},
    "kb.integrations": {"kb.core", "kb.retrieval", "kb.answering", "kb.knowledge"},
    "kb.conversation": {"kb.core", "kb.retrieval", "kb.answering", "kb.knowledge"},
    "kb.cli": {"kb.core", "kb.retrieval", "kb.answering", "kb.knowledge", "kb.conversation"},
    "kb.eval": {"kb.core", "kb.retrieval", "kb.answering", "kb.knowledge"},
    "ingest": {"kb.core", "kb.retrieval", "kb.answering"},
    "page": {"kb.core", "kb.retrieval", "kb.answering", "kb.knowledge", "kb.conversation", "ingest"},
}
PACKAGES = ("kb", "ingest", "page")


def layer_of(module: str) -> str | None:
    return next((layer for layer in sorted(ALLOWED, key=len, reverse=True)
                 if module == layer or module.startswith(layer + ".")), None)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Project modules imported anywhere in the file, relative imports resolved."""
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[:len(package.split(".")) - node.level + 1]
            found.add(".".join(base + ([node.module] if node.module else [])))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.split(".")[0] in PACKAGES and m != "kb"}


def project_modules() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def test_no_module_imports_upward():
    upward = []
    for module, targets in project_modules().items():
        layer = layer_of(module)
        if layer is None:
            continue  # kb/__init__.py and kb/__main__.py: entry points
        for target in targets:
            to = layer_of(target)
            if to is not None and to != layer and to not in ALLOWED[layer]:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = {m: {t for t in ts if t in project_modules_cache()} for m, ts in project_modules_cache().items()}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycle.extend(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, path + [nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if state.get(start) is None and visit(start, [start]):
            break
    assert not cycle, " -> ".join(cycle)


_CACHE: dict[str, set[str]] = {}


def project_modules_cache() -> dict[str, set[str]]:
    if not _CACHE:
        _CACHE.update(project_modules())
    return _CACHE
