"""Minimal Django project for the django-hordak peer (runs in its own venv: BENCH_HORDAK_VENV)."""

import os

from bench.peers.common_settings import database

SECRET_KEY = "bench"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "mptt", "djmoney", "hordak"]
DATABASES = {"default": database(os.environ.get("BENCH_HORDAK_DATABASE", "peatio_bench_hordak"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
HORDAK_CURRENCIES = CURRENCIES = ["USD"]
HORDAK_DECIMAL_PLACES = 2
HORDAK_MAX_DIGITS = 13
