from django.apps import AppConfig


class CrisisConfig(AppConfig):
    name = "amparo.crisis"
    label = "crisis"
