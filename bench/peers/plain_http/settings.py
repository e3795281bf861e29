"""Minimal Django project of the plain Django + PyJWT transfer view: the plain peer's wallet, one URL, no middleware."""

import os

from bench.peers.common_settings import database
from bench.peers.plain.settings import *  # noqa: F401,F403

DATABASES = {"default": database(os.environ.get("BENCH_PLAIN_DATABASE", "peatio_bench_plain_http"))}
ROOT_URLCONF = "bench.peers.plain_http.urls"
ALLOWED_HOSTS = ["*"]
MIDDLEWARE: list[str] = []
