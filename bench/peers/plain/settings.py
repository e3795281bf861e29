"""Minimal Django project for the plain-Django transfer peer (tables by `migrate --run-syncdb`)."""

import os

from bench.peers.common_settings import database

SECRET_KEY = "bench"
USE_TZ = True
INSTALLED_APPS = ["bench.peers.plain.wallet"]
DATABASES = {"default": database(os.environ.get("BENCH_PLAIN_DATABASE", "peatio_bench_plain"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
