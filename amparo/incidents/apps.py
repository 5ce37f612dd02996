from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "amparo.incidents"
    label = "incidents"
