"""Routes of the map, hotspots, imports and exports (issue 7, points 2, 3 and 6)."""

from django.urls import path

from amparo.monitoring import exports, import_views, map_views

m = "o/<slug:slug>/map/"
h = m + "hotspots/"
i = "o/<slug:slug>/monitoring/imports/"
e = "o/<slug:slug>/monitoring/exports/"

urlpatterns = [
    path(m, map_views.map_page, name="map"),
    path(m + "incidents.geojson", map_views.incidents_geojson, name="map-incidents"),
    path(m + "hotspots.geojson", map_views.hotspots_geojson, name="map-hotspots"),
    path(m + "layers/<slug:layer>.geojson", map_views.layer_geojson, name="map-layer"),
    path(h, map_views.hotspot_list, name="map-hotspot-list"),
    path(h + "new/", map_views.hotspot_new, name="map-hotspot-new"),
    path(h + "<str:hotspot_id>/edit/", map_views.hotspot_edit, name="map-hotspot-edit"),
    path(h + "<str:hotspot_id>/archive/", map_views.hotspot_archive, name="map-hotspot-archive"),
    path(
        h + "<str:hotspot_id>/photos/<str:photo_id>/",
        map_views.hotspot_photo,
        name="map-hotspot-photo",
    ),
    path(i, import_views.import_list, name="monitoring-imports"),
    path(i + "<str:job_id>/", import_views.import_progress, name="monitoring-import"),
    path(
        i + "<str:job_id>/mapping/", import_views.import_mapping, name="monitoring-import-mapping"
    ),
    path(e + "incidents.csv", exports.export_csv, name="monitoring-export-csv"),
    path(e + "incidents.geojson", exports.export_geojson, name="monitoring-export-geojson"),
]
