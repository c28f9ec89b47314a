from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Imports and exports."""

    name = "imports"
