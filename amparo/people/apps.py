from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "amparo.people"
    label = "people"
    verbose_name = "People and organisations"

    def ready(self) -> None:
        from amparo.people import signals  # noqa: F401 - connects the receivers
