from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """Device models, devices and the device event log."""

    name = "inventory"

    def ready(self) -> None:
        from inventory import panels

        panels.register()
