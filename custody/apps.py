from django.apps import AppConfig


class CustodyConfig(AppConfig):
    """Check-out and check-in."""

    name = "custody"

    def ready(self) -> None:
        from custody import panels

        panels.register()
