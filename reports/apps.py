from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Reports: the dashboard and site counts, and the downloads (exports) of the lists.

    Reports read every other domain app (devices, people, custody, sites) and nothing reads
    them back: a report never becomes a rule.
    """

    name = "reports"

    def ready(self) -> None:
        from reports import panels

        panels.register()
