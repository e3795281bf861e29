import threading

import pytest
from django.db import connection, transaction


class OpenTransaction:
    """`work()` run in a durable transaction on a thread of its own (its own connection), which stays open after
    the work until the test commits or rolls it back: a writer caught between its insert and its commit."""

    def __init__(self, work):
        self.work, self.result, self.error = work, None, None
        self._written, self._decided = threading.Event(), threading.Event()
        self._commit = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self._written.wait(30), "the writer did not finish its work"
        if self.error is not None:
            raise self.error

    def _run(self):
        try:
            with transaction.atomic(durable=True):
                self.result = self.work()
                self._written.set()
                self._decided.wait(60)
                if not self._commit:
                    transaction.set_rollback(True)
        except Exception as error:  # reported to the test on the main thread
            self.error = error
            self._written.set()
        finally:
            connection.close()

    def _end(self, commit: bool):
        self._commit = commit
        self._decided.set()
        self.thread.join(30)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error

    def commit(self):
        self._end(True)

    def rollback(self):
        self._end(False)


def body(service):
    """A durable service's body (`functools.wraps`, which the atomic decorator uses, keeps it as `__wrapped__`), for
    OpenTransaction to run inside the transaction it holds open."""
    return service.__wrapped__


def insert_deposit_sql(conn, *, member_id: int, currency: str, tid: str) -> int:
    """A deposit row written with plain SQL (manual SQL is a path the guard covers too); its id."""
    return conn.execute(
        "INSERT INTO deposits (member_id, currency_id, type, tid, amount, fee, state, confirmations, error, created_at,"
        " updated_at) VALUES (%s, %s, 'fiat', %s, 1, 0, 'submitted', 0, '[]', now(), now()) RETURNING id",
        [member_id, currency, tid],
    ).fetchone()[0]


@pytest.fixture
def chart(db):
    """The default chart of accounts (a transactional test flushes the migration's rows)."""
    from ledger.chart import install_default_chart
    from ledger.models import ChartAccount

    if not ChartAccount.objects.exists():
        install_default_chart(ChartAccount)
