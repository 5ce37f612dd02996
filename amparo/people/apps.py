from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "amparo.people"
    label = "people"
    verbose_name = "People and organisations"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from amparo.people import (
            signals,  # noqa: F401 - connects the receivers
            token_use,
        )

        request_finished.connect(token_use.flush_if_due, dispatch_uid="token-use-flush")
