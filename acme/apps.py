from django.apps import AppConfig
from django.core import checks


class AcmeConfig(AppConfig):
    name = "acme"
    verbose_name = "Acme"

    def ready(self) -> None:
        from acme.lib import service_urls

        checks.register(service_urls.check, "services")
