from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "amparo.alerts"
    label = "alerts"
    verbose_name = "Alerts and escalation"

    def ready(self) -> None:
        from amparo.alerts import signals  # noqa: F401 - connects the receivers
