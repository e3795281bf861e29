"""Embedded PostgreSQL and Redis for a machine where DATABASE_URL / REDIS_URL are not set.

Placeholder of the foundation: the URLs the settings use; starting and stopping the servers comes with `make run`.
"""

from pathlib import Path


def embedded_database_url(var_dir: Path) -> str:
    return f"postgres://postgres@/peatio?host={var_dir / 'postgres'}"


def embedded_redis_url(var_dir: Path) -> str:
    return "redis://127.0.0.1:6390/0"
