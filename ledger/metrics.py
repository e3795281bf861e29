"""The last books check (ledger:last_check in Redis) as Prometheus gauges: ok, breaches, time (peatio_mgmt.metrics)."""

from datetime import datetime

from prometheus_client.core import GaugeMetricFamily

from ledger.books import books_last_check


class BooksCheck:
    def collect(self):
        last = books_last_check()
        if last is None:
            return
        yield GaugeMetricFamily("peatio_books_check_ok", "1 when the last books check found no breach", value=int(last["ok"]))
        yield GaugeMetricFamily("peatio_books_check_breaches", "Breaches found by the last books check", value=last["breaches"])
        yield GaugeMetricFamily(
            "peatio_books_check_timestamp_seconds", "When the last books check ran",
            value=datetime.fromisoformat(last["time"]).timestamp(),
        )
