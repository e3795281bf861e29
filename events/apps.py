from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Event stream"

    def ready(self):
        from events import config

        # §16.5: every process (web, workers, beat, manage.py) refuses to start on a bad file, the entry named.
        config.reload()
