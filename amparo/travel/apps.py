from django.apps import AppConfig


class TravelConfig(AppConfig):
    name = "amparo.travel"
    label = "travel"
