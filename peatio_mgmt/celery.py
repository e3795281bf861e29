import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings")

app = Celery("peatio_mgmt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

import peatio_mgmt.metrics  # noqa: E402,F401  (its Celery signal handlers count task runs and failures)


def all_queues() -> list[str]:
    """Every queue of CELERY_TASK_ROUTES and the default one: what a single worker for everything consumes."""
    from django.conf import settings

    return sorted({app.conf.task_default_queue, *(route["queue"] for route in settings.CELERY_TASK_ROUTES.values())})

