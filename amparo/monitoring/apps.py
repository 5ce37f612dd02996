from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "amparo.monitoring"
    label = "monitoring"
