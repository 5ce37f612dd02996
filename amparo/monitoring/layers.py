"""The reference layers that ship in monitoring/data, with their attribution."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from amparo.core import audit
from amparo.monitoring.models import ReferenceLayer

DATA_DIR = Path(__file__).resolve().parent / "data"
AMW = "Earth Genome / Amazon Mining Watch (earthrise-media/mining-detector)"


@dataclass(frozen=True)
class LayerSource:
    slug: str
    title: str
    filename: str
    attribution: str
    licence: str


REFERENCE_LAYERS = [
    LayerSource(
        "mining-detections",
        "Gold-mining detections 2019-2023 (Madre de Dios, Pando)",
        "mining_mdd_pando.geojson",
        AMW,
        "CC BY 4.0",
    ),
    LayerSource(
        "indigenous-territories",
        "Indigenous territories and native communities",
        "indigenous_mdd_pando.geojson",
        f"{AMW}; each polygon's own source in its source_field",
        "CC BY 4.0",
    ),
    LayerSource(
        "countries",
        "Amazonian Peru, Bolivia and Brazil (base map)",
        "countries_amazon.geojson",
        AMW,
        "CC BY 4.0",
    ),
]


@transaction.atomic
def load_reference_layers(actor: object = "system") -> list[ReferenceLayer]:
    layers = []
    for source in REFERENCE_LAYERS:
        geojson = json.loads((DATA_DIR / source.filename).read_text(encoding="utf-8"))
        if geojson.get("type") != "FeatureCollection":
            raise ValueError(f"{source.filename} is not a GeoJSON FeatureCollection")
        layer, _created = ReferenceLayer.objects.update_or_create(
            slug=source.slug,
            defaults={
                "title": source.title,
                "attribution": source.attribution,
                "licence": source.licence,
                "geojson": geojson,
                "feature_count": len(geojson.get("features", [])),
            },
        )
        audit.record(
            actor, "reference_layer.loaded", layer, details={"features": layer.feature_count}
        )
        layers.append(layer)
    return layers
