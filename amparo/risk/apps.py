from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "amparo.risk"
    label = "risk"
