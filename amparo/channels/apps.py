from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "amparo.channels"
    label = "channels"
