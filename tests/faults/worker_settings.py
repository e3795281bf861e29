"""Settings of the Celery workers the fault tests start as subprocesses: the project's, with the broker's
visibility timeout cut from 300 s to 2 s and the unacked sweep run every second, so a task of a SIGKILLed worker
is redelivered within seconds instead of five minutes. The redelivery path itself is the production one."""

from peatio_mgmt.settings.base import *  # noqa: F401,F403

CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
