from django.contrib import admin

from amparo.monitoring.models import ReferenceLayer


@admin.register(ReferenceLayer)
class ReferenceLayerAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "licence", "feature_count", "loaded_at"]
    exclude = ["geojson"]
