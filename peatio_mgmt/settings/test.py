"""pytest's settings: the base settings with a development secret key and cookies over plain HTTP, so a bare
`pytest` needs no DJANGO_SECRET_KEY or PEATIO_DEV_DEFAULTS. The processes the tests start (workers, gunicorn)
inherit the key through the environment."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-test-key-never-use-in-production")
os.environ.setdefault("PEATIO_EMBEDDED_REDIS_DB", "1")  # not `make run`'s (peatio_mgmt.embedded)

from peatio_mgmt.settings.base import *  # noqa: E402,F401,F403
from peatio_mgmt.settings.base import DATABASE_URL, DATABASES, database_from_url, env  # noqa: E402

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)

# No pool in the pytest process (the servers and workers it starts keep the default, the pool): pytest-django holds
# one connection per thread for a whole test, so a pool has nothing to share, and the race tests' threads each
# hold one until they end. Measured (same subsets, pool on / off): tests/api + tests/sync 121 s / 137 s, the
# threaded withdraw tests 110 s / 94 s — all green both ways, no gain worth a second mode in the tests.
DATABASES["default"] = database_from_url(DATABASE_URL, pool=False)
