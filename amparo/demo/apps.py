from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "amparo.demo"
    label = "demo"
    verbose_name = "Demo data"
