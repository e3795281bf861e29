"""Settings modules: `base` for every process (gunicorn, celery, manage.py), `test` for pytest."""
