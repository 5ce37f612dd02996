"""Monitoring: for now the reference map layers that ship with Amparo."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReferenceLayer(models.Model):
    """A public map layer (mining detections, Indigenous territories, country outlines),
    loaded from the GeoJSON files in monitoring/data with the attribution they require."""

    slug = models.SlugField(unique=True)
    title = models.CharField(_("title"), max_length=200)
    attribution = models.TextField(_("attribution"))
    licence = models.CharField(_("licence"), max_length=60)
    geojson = models.JSONField()
    feature_count = models.PositiveIntegerField(default=0)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title
