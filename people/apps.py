from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """Students, staff and guardians."""

    name = "people"
