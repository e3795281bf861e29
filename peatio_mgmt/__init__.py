from . import decimals

decimals.install()  # before any thread of gunicorn, Celery or Django exists

from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
