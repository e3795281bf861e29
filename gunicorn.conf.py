"""gunicorn settings (`gunicorn -c gunicorn.conf.py peatio_mgmt.wsgi`), all overridable from the environment.

gthread workers: a management API request is short and mostly CPU (JWS verification, rendering), so concurrency
comes from processes (about 2 per core: while one waits on PostgreSQL the other runs); the threaded worker is
used for its keep-alive (the sync worker closes every connection), with few threads because of the GIL.
The app is loaded before the fork (preload) so the workers share its memory and a broken configuration fails at
start, not per worker.
"""

import gc
import logging
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

# Every request logs one line (route, status, kids, duration). None of the web process's formats (settings.LOGGING,
# gunicorn's) shows the caller's file/line/function, the thread or the multiprocessing name: the logging module's
# documented switches ("Optimization" in its HOWTO) skip collecting them, about 28k instructions of a ~2M-instruction
# /timestamp request. The process id stays (gunicorn's error log shows it). Web process only: celery's formats use
# processName.
logging._srcfile = None
logging.logThreads = False
logging.logMultiprocessing = False


# The master collects no garbage while it loads the application (until `when_ready`, before the first fork), as the
# gc module's documentation advises before gc.freeze(): collections would leave freed holes among the long-lived
# objects, which the workers' allocations would then fill, copying those shared pages. Only at the first reading of
# this file: a reload (HUP) reads it again but calls no `when_ready`, and must leave the collector on.
if not gc.get_freeze_count():
    gc.disable()


def when_ready(server):
    """In the master, once the preloaded application is in place and before the first worker is forked.

    The URLconf (every app's viewsets, DRF's and drf-spectacular's views) would be imported by each worker's first
    request, in the worker's own memory; imported here, it is shared. Then everything loaded so far is frozen out of
    the cyclic garbage collector (gc.freeze): the workers' collections no longer walk (and, through copy-on-write,
    copy) the ~190k start-up objects that live as long as the process. Collection resumes for the master and, through
    the fork, for the workers.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 -- the import is the point
    gc.freeze()
    gc.enable()
    server.log.info("URLconf loaded, %d objects frozen out of the garbage collector", gc.get_freeze_count())


def post_fork(server, worker):
    # preload opened nothing on purpose, but never let two processes share a database socket.
    from django.db import connections

    connections.close_all()


def child_exit(server, worker):
    # prometheus-client multiprocess mode: drop the dead worker's live gauges.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
