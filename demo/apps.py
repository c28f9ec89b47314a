from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The deterministic demo district generator (small, district and metro scales)."""

    name = "demo"
