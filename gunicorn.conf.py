"""gunicorn settings (`gunicorn -c gunicorn.conf.py peatio_mgmt.wsgi`), all overridable from the environment.

gthread workers: a management API request is short and mostly CPU (JWS verification, rendering), so concurrency
comes from processes (about 2 per core: while one waits on PostgreSQL the other runs); the threaded worker is
used for its keep-alive (the sync worker closes every connection), with few threads because of the GIL.
The app is loaded before the fork (preload) so the workers share its memory and a broken configuration fails at
start, not per worker.
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
preload_app = True
# Behind a load balancer that keeps connections open: keep-alive above its idle timeout saves TCP handshakes.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# A worker is recycled after this many requests (plus jitter) to bound any slow leak; 0 disables.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# Access log off by default: /metrics counts requests and the app logs what matters, with the request id.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    # preload opened nothing on purpose, but never let two processes share a database socket.
    from django.db import connections

    connections.close_all()


def child_exit(server, worker):
    # prometheus-client multiprocess mode: drop the dead worker's live gauges.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
