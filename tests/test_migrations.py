"""Migrations are frozen history: they import Django only, never the project's live code, which changes."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = {"peatio_mgmt", "ledger", "deposits", "withdraws", "trades", "operators"}
MIGRATIONS = sorted(p for package in PROJECT_PACKAGES for p in (ROOT / package / "migrations").glob("0*.py"))


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("migration", MIGRATIONS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_migration_imports_no_project_code(migration):
    assert {m for m in imported_modules(migration) if m.split(".")[0] in PROJECT_PACKAGES} == set()


def test_there_are_migrations_to_check():
    assert len(MIGRATIONS) >= 7
