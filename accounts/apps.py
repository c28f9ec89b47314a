from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Staff roles and the scoping gate."""

    name = "accounts"
