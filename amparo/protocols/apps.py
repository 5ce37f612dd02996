from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "amparo.protocols"
    label = "protocols"
