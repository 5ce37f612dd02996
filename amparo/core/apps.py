from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "amparo.core"
    label = "core"
    verbose_name = "Amparo core"

    def ready(self) -> None:
        # The data directory holds the SQLite file, the evidence store and generated files;
        # only this process's user may enter it.
        for folder in (
            settings.DATA_DIR,
            settings.EVIDENCE_DIR,
            settings.GENERATED_DIR,
            settings.STATIC_ROOT,
        ):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
