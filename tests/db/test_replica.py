"""A real streaming replica of the test PostgreSQL (peatio_mgmt.embedded.replica_start: pg_basebackup + standby,
on its own Unix socket) serves the management API's reads; writes, and a partner's reads just after its writes,
go to the primary (peatio_mgmt.db_router, management_api.read_your_writes).

Replay on the replica is paused to make "served by the replica" visible: a row committed on the primary is
missing from the answer until replay resumes."""

import time
from pathlib import Path

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from psycopg import errors as pg_errors

from peatio_mgmt.db_router import REPLICA
from peatio_mgmt.embedded import replica_start, replica_stop
from peatio_mgmt.management_api import read_your_writes
from peatio_mgmt.management_api.replay import client as redis_client
from peatio_mgmt.settings.base import database_from_url
from tests.api_client import SIGNERS
from tests.factories import DepositFactory, MemberFactory

# `replica` is a mirror of `default` (as settings make it): pytest-django lets the test use it and flushes only the
# primary after it.
pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])


@pytest.fixture(scope="module", autouse=True)
def replica_url(django_db_setup, tmp_path_factory):
    """A replica of the test server, and the `replica` alias on it as DATABASE_REPLICA_URL makes it. Module scope:
    set up before pytest-django's per-test fixtures, which want every alias of `databases` to exist.

    (connections.settings is settings.DATABASES itself, completed with Django's defaults.)"""
    primary = connection.settings_dict["HOST"]
    if not primary.startswith("/"):
        pytest.skip("the replica is made of the embedded PostgreSQL, reached through its Unix socket")
    data_dir = tmp_path_factory.mktemp("replica") / "pg"
    url = replica_start(primary_socket_dir=Path(primary), data_dir=data_dir, database=connection.settings_dict["NAME"])
    entry = {**database_from_url(url, pool=False), "TEST": {"MIRROR": DEFAULT_DB_ALIAS}}
    databases = {DEFAULT_DB_ALIAS: connections.settings[DEFAULT_DB_ALIAS], REPLICA: entry}
    connections.settings[REPLICA] = connections.configure_settings(databases)[REPLICA]
    yield url
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]
    replica_stop(data_dir=data_dir)


@pytest.fixture
def replica(replica_url):
    """A side connection to the replica (its replay resumed at the end); no partner pinned at the start."""
    redis_client().delete(*(read_your_writes.KEY_PREFIX + kid for kid in SIGNERS))
    side = psycopg.connect(replica_url.replace("postgres://", "postgresql://"), autocommit=True)
    yield side
    side.execute("SELECT pg_wal_replay_resume()")
    side.close()


def caught_up(side) -> None:
    """Wait until the replica has replayed everything the primary wrote so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + 30
    while not side.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]:
        assert time.monotonic() < deadline, "the replica did not catch up in 30 s"
        time.sleep(0.05)


def replay_paused(side) -> None:
    side.execute("SELECT pg_wal_replay_pause()")
    deadline = time.monotonic() + 30
    while side.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != "paused":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def tids(response) -> list[str]:
    assert response.status_code == 201, response.content
    return [row["tid"] for row in response.json()]


def test_the_list_is_served_by_the_replica_and_the_replica_refuses_writes(api, usd, replica):
    alice = MemberFactory()
    DepositFactory(member=alice, currency=usd, tid="TID-SEEN")
    caught_up(replica)
    replay_paused(replica)
    DepositFactory(member=alice, currency=usd, tid="TID-LATE")  # committed on the primary, not yet replayed

    assert tids(api.post("/deposits", {"uid": alice.uid})) == ["TID-SEEN"]

    replica.execute("SELECT pg_wal_replay_resume()")
    caught_up(replica)
    assert tids(api.post("/deposits", {"uid": alice.uid})) == ["TID-LATE", "TID-SEEN"]

    with connections[REPLICA].cursor() as cursor:  # the connection the list was read on
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (True,)
    with pytest.raises(pg_errors.ReadOnlySqlTransaction):
        replica.execute("UPDATE deposits SET amount = 2 WHERE tid = 'TID-SEEN'")


def test_a_partner_reads_its_own_writes_from_the_primary_for_the_pin_time(api, usd, replica, settings):
    settings.DATABASE_REPLICA_PIN_SECONDS = 1
    alice = MemberFactory()
    caught_up(replica)
    replay_paused(replica)

    created = api.post("/deposits/new", {"uid": alice.uid, "currency": "usd", "amount": "5", "tid": "TID-MINE"})
    assert created.status_code == 201, created.content
    # The write pinned the partner: its get (and list) read the primary, which has the deposit.
    assert api.post("/deposits/get", {"tid": "TID-MINE"}).status_code == 201
    assert tids(api.post("/deposits", {"uid": alice.uid})) == ["TID-MINE"]

    time.sleep(1.2)  # the pin expired: the paused replica answers, without the deposit
    assert api.post("/deposits/get", {"tid": "TID-MINE"}).status_code == 404
    replica.execute("SELECT pg_wal_replay_resume()")
    caught_up(replica)
    assert api.post("/deposits/get", {"tid": "TID-MINE"}).status_code == 201


def test_a_from_id_feed_reads_the_primary(api, usd, replica):
    alice = MemberFactory()
    caught_up(replica)
    replay_paused(replica)
    deposit = DepositFactory(member=alice, currency=usd, tid="TID-FEED")

    assert tids(api.post("/deposits", {"from_id": deposit.id - 1})) == ["TID-FEED"]


def test_reads_fall_back_to_the_primary_when_the_replica_is_unreachable(api, usd, replica, tmp_path, caplog):
    DepositFactory(member=(alice := MemberFactory()), currency=usd, tid="TID-ANYWAY")
    settings_dict = connections.settings[REPLICA]
    host = settings_dict["HOST"]
    connections[REPLICA].close()
    del connections[REPLICA]
    settings_dict["HOST"] = str(tmp_path)  # no server there
    try:
        assert tids(api.post("/deposits", {"uid": alice.uid})) == ["TID-ANYWAY"]
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        settings_dict["HOST"] = host
    assert "replica read failed" in caplog.text
