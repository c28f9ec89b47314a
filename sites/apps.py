from django.apps import AppConfig


class SitesConfig(AppConfig):
    """Sites and district settings."""

    name = "sites"
