"""Guard rails on size: modules a reader can hold, functions a reader takes in at once.

ruff's complexity rules (C901, PLR0911-PLR0915, ``pyproject.toml``) bound branches,
returns, arguments and statements; this bounds plain length, which they do not.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = [ROOT / "libs", ROOT / "services", ROOT / "src"]
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50


def _modules() -> list[Path]:
    return sorted(
        path
        for folder in PRODUCTION
        for path in folder.rglob("*.py")
        if not {".venv", "target", "__pycache__", "node_modules"} & set(path.parts)
    )


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return [node for node in ast.walk(tree) if isinstance(node, kinds)]


def test_production_code_is_found() -> None:
    assert len(_modules()) > 50


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_and_function_sizes(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.name} over {MAX_MODULE_LINES}"
    long = [
        f"{node.name} at line {node.lineno}: {node.end_lineno - node.lineno + 1} lines"
        for node in _functions(ast.parse(text))
        if node.end_lineno is not None and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"
