from peatio_mgmt.settings.base import *  # noqa: F401,F403

ROOT_URLCONF = "bench.bare"
