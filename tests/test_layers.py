"""The project package sits below the apps: peatio_mgmt/ imports no app (the apps import its generic pieces; the
settings and the root URLconf name the apps' modules by dotted string)."""

import ast
from pathlib import Path

import peatio_mgmt

APPS = {"ledger", "deposits", "withdraws", "trades", "operators", "seeding", "events"}


def imported_modules(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_the_project_package_imports_no_app():
    package = Path(peatio_mgmt.__file__).parent
    offenders = [
        f"{path.relative_to(package.parent)}: {module}"
        for path in sorted(package.rglob("*.py"))
        for module in imported_modules(ast.parse(path.read_text(), filename=str(path)))
        if module.split(".")[0] in APPS
    ]

    assert offenders == []
