from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting pieces: domain errors, paging, time zone middleware, base templates."""

    name = "core"
