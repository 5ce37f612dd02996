"""Monitoring (issue 7; reference Strategy 4): the reference map layers that ship with
Amparo, the incident facts that the dashboards, the map and the public reports count,
hotspots mapped by focal points, CSV imports, and published public reports.

``Incident`` is one row per incident, whatever its origin: a threat report filed in
Amparo (projected by ``monitoring.facts``), a row of an imported file (the Global Witness
dataset of killed land defenders is the first), or one entered by hand. Its readable
columns are the ones that may be counted (month, country, region, kind, level, actor,
the 10 km grid cell); everything that identifies a person or a precise place is sealed.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from amparo.core.fields import EncryptedJSONField, EncryptedTextField
from amparo.core.ids import time_ordered_id
from amparo.people.models import Organisation, org_scope


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


class _Sealed(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class IncidentKind(models.TextChoices):
    """What happened (reference, Section 1 and Strategy 4: threats and aggressions)."""

    THREAT = "threat", _("Threat")
    ATTACK = "attack", _("Physical attack")
    ATTEMPTED_ATTACK = "attempted_attack", _("Attempted attack")
    KILLING = "killing", _("Killing")
    KIDNAPPING = "kidnapping", _("Kidnapping or disappearance")
    DETENTION = "detention", _("Unlawful detention")
    CRIMINALISATION = "criminalisation", _("Criminalisation")
    HARASSMENT = "harassment", _("Harassment or surveillance")
    EVICTION = "eviction", _("Forced eviction")
    OTHER = "other", _("Other")


class ActorType(models.TextChoices):
    """Who is behind it, as far as known (Step 1's illicit activities, and the
    perpetrator types of the Global Witness data)."""

    ILLEGAL_MINERS = "illegal_miners", _("Illegal miners")
    ILLEGAL_LOGGERS = "illegal_loggers", _("Illegal loggers")
    DRUG_TRAFFICKERS = "drug_traffickers", _("Drug traffickers")
    LAND_TRAFFICKERS = "land_traffickers", _("Land traffickers")
    ORGANISED_CRIME = "organised_crime", _("Organised crime")
    HITMEN = "hitmen", _("Hitmen")
    PRIVATE_SECURITY = "private_security", _("Private security or military actors")
    COMPANY = "company", _("Company")
    LANDOWNERS = "landowners", _("Landowners")
    POLICE = "police", _("Police")
    ARMED_FORCES = "armed_forces", _("Armed forces")
    OFFICIALS = "officials", _("Public officials")
    COMMUNITY = "community", _("Community members")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class IncidentOrigin(models.TextChoices):
    REPORT = "report", _("Threat report")
    IMPORT = "import", _("Imported")
    MANUAL = "manual", _("Entered by hand")


class Incident(_Sealed):
    """One incident as the indicators count it (see the module docstring).

    Every threat report writes one: its key is time-ordered (amparo.core.ids), the
    organisation is indexed by the indexes in Meta (which lead with it), the import
    only where there is one."""

    id = models.UUIDField(primary_key=True, default=time_ordered_id, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    origin = models.CharField(max_length=8, choices=IncidentOrigin.choices)
    # The threat report this row projects (origin "report"), one row per report.
    report = models.OneToOneField(
        "incidents.ThreatReport",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="incident_fact",
    )
    # The import that brought it, and the row's own id in its file (re-imports update).
    import_job = models.ForeignKey(
        "ImportJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        db_index=False,
    )
    external_id = models.CharField(max_length=100, blank=True, default="")
    occurred_on = models.DateField(_("date"))
    month = models.DateField()  # the first day of occurred_on's month: the counting unit
    country = models.CharField(_("country"), max_length=2, blank=True, default="")
    region = models.CharField(_("region"), max_length=120, blank=True, default="")
    kind = models.CharField(_("kind"), max_length=20, choices=IncidentKind.choices)
    level = models.CharField(_("level"), max_length=8, blank=True, default="")  # Level codes
    actor_type = models.CharField(
        _("actor type"), max_length=20, choices=ActorType.choices, default=ActorType.UNKNOWN
    )
    sector = models.CharField(_("sector"), max_length=60, blank=True, default="")
    victims = models.PositiveIntegerField(_("victims"), default=1)
    has_evidence = models.BooleanField(_("documented with evidence"), default=False)
    # The 10 km grid cell (monitoring.grid): the finest place anyone but a coordinator
    # sees. Empty when the place is not known.
    cell = models.CharField(max_length=24, blank=True, default="")
    # Sealed: the precise point ({"lat", "lon"}), and who it happened to (names, gender,
    # age, characteristics) as the source gave them.
    location = EncryptedJSONField(null=True, blank=True)
    identity = EncryptedJSONField(null=True, blank=True)
    description = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurred_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "origin", "external_id"],
                condition=~models.Q(external_id=""),
                name="incident_external_id_once",
            )
        ]
        indexes = [
            # The newest first, in a stable order (the coordinators' precise map pages).
            models.Index(fields=["organisation", "month", "id"], name="incident_org_month_id"),
            models.Index(fields=["organisation", "kind", "month"], name="incident_org_kind_month"),
            # One region's facts by actor (the one dashboard cut no tally holds).
            models.Index(
                fields=["organisation", "region", "month", "actor_type", "kind", "level"],
                name="incident_org_region_actor",
            ),
            models.Index(fields=["month"], name="incident_month"),
            models.Index(
                fields=["import_job"],
                name="incident_import_job",
                condition=models.Q(import_job__isnull=False),
            ),
            # Covers every indicator query (monitoring.dashboard): the counts are read
            # from the index alone, without touching the rows.
            models.Index(
                fields=[
                    "organisation",
                    "month",
                    "kind",
                    "level",
                    "region",
                    "actor_type",
                    "has_evidence",
                    "origin",
                ],
                name="incident_indicators_cover",
            ),
            # Covers the map's count per grid cell with its filters (monitoring.map_views;
            # with no filter the yearly tallies answer): a period's entries only.
            models.Index(
                fields=["organisation", "occurred_on", "cell", "kind", "level"],
                name="incident_map_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_on:%Y-%m}"


class HotspotKind(models.TextChoices):
    """Pressures mapped by communities (issue 7, point 2; reference Strategy 4, line 1)."""

    MINING_CAMP = "mining_camp", _("Illegal mining camp")
    LOGGING_ROUTE = "logging_route", _("Logging route")
    AIRSTRIP = "airstrip", _("Clandestine airstrip")
    LAND_TRAFFICKING = "land_trafficking", _("Land trafficking")
    COCA = "coca", _("Coca cultivation")
    OTHER = "other", _("Other pressure")


class HotspotSource(models.TextChoices):
    COMMUNITY = "community", _("Community")
    SATELLITE = "satellite", _("Satellite")
    MEDIA = "media", _("Media")


class Confidence(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Hotspot(_Sealed):
    """A point, line or polygon (a GeoJSON geometry, sealed: a mapped camp or route can
    point to the people who mapped it) with its readable kind, date and grid cell."""

    kind = models.CharField(_("kind"), max_length=20, choices=HotspotKind.choices)
    observed_on = models.DateField(_("observed on"))
    confidence = models.CharField(
        _("confidence"), max_length=8, choices=Confidence.choices, default=Confidence.MEDIUM
    )
    source = models.CharField(
        _("source"), max_length=12, choices=HotspotSource.choices, default=HotspotSource.COMMUNITY
    )
    geometry = EncryptedJSONField()
    cell = models.CharField(max_length=24, blank=True, default="", db_index=True)
    notes = EncryptedTextField(_("notes"), blank=True, default="")
    mapped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-observed_on"]
        indexes = [models.Index(fields=["organisation", "observed_on"], name="hotspot_org_date")]

    def __str__(self) -> str:
        return f"{self.kind} {self.observed_on}"


class HotspotPhoto(_Sealed):
    """A photo of a hotspot (the observation form's, from a phone, or one added on the
    hotspot's page; issue 9, point 1). Kept in the evidence vault exactly as an evidence
    file (incidents.vault, incidents.models.EvidenceFile): its own key sealed by the
    organisation's, encrypted chunk by chunk as it arrives, hashed at intake, its type
    read from the bytes. A photo can carry the camp's or the monitor's GPS position in
    its metadata, so it is read as precisely as the hotspot (monitoring.access)."""

    hotspot = models.ForeignKey(Hotspot, on_delete=models.PROTECT, related_name="photos")
    name = EncryptedTextField()  # the file name as received
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file_key = EncryptedTextField()  # the file's own key, sealed by the organisation's
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"hotspot photo {self.sha256[:12]}"


class ImportPreset(_Sealed):
    """A saved column mapping for CSV imports (``{"target field": "CSV column"}`` plus
    value maps), per organisation; the Global Witness preset ships with Amparo."""

    name = models.CharField(_("name"), max_length=120)
    mapping = models.JSONField(default=dict)
    builtin = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="import_preset_name_once")
        ]

    def __str__(self) -> str:
        return self.name


class ImportState(models.TextChoices):
    # Uploaded, waiting for its column mapping (monitoring.imports): not queued yet.
    MAPPING = "mapping", _("Waiting for the column mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(_Sealed):
    """A CSV import run as a background task: the file (sealed), the mapping used, the
    progress, and every row not imported with the reason."""

    filename = EncryptedTextField()
    content = EncryptedTextField()  # the CSV text, kept until the import is done
    mapping = models.JSONField(default=dict)
    state = models.CharField(max_length=8, choices=ImportState.choices, default=ImportState.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    rejected = EncryptedJSONField(default=list, blank=True)  # [{"row", "reason"}]
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.state})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class PublicReport(_Sealed):
    """A periodic public report (reference Strategy 4, line 4), built only from counts
    (``monitoring.public``): what was published, for which period, and its files."""

    title = models.CharField(_("title"), max_length=200)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    # The counts as published (suppressed cells already removed): the CSV and GeoJSON are
    # rendered from this, so a published report never changes.
    data = models.JSONField(default=dict)
    pdf = models.BinaryField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end"]

    def __str__(self) -> str:
        return self.title


def month_of(day: Any) -> Any:
    return day.replace(day=1)


class KpiEntry(_Sealed):
    """A value of an "entered" KPI of the catalogue (monitoring.kpis): the figure for
    one period, with the evidence it rests on (sealed: it may name people or sources).
    A correction is a new entry; the latest entered for a period is the one shown."""

    kpi_id = models.CharField(_("KPI"), max_length=120, db_index=True)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    evidence = EncryptedTextField(_("evidence"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField()

    class Meta:
        ordering = ["-period_end", "-entered_at"]
        indexes = [models.Index(fields=["organisation", "kpi_id", "period_end"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="kpi_entry_period_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.period_start}..{self.period_end}"


class IncidentTally(models.Model):
    """The incident facts counted ahead of time (monitoring.tallies): one row per
    organisation, grain, period and the grain's columns, holding how many incidents fall
    there, how many of them were threat reports filed in Amparo, and how many of those came
    with evidence. The dashboard, the map's unfiltered counts and the public report sum
    these rows instead of counting a million facts (DESIGN.md section 9: p95 under 300 ms
    on 1,000,000 incidents). Kept in the same transaction as the facts it counts; the
    columns a grain does not use hold "".
    """

    id = models.BigAutoField(primary_key=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    grain = models.CharField(max_length=4)
    period = models.DateField()  # the first day of the month (or of the year, grain "cy")
    region = models.CharField(max_length=120, blank=True, default="")
    kind = models.CharField(max_length=20, blank=True, default="")
    level = models.CharField(max_length=8, blank=True, default="")
    actor_type = models.CharField(max_length=20, blank=True, default="")
    cell = models.CharField(max_length=24, blank=True, default="")
    n = models.IntegerField(default=0)
    reported = models.IntegerField(default=0)
    documented = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organisation",
                    "grain",
                    "period",
                    "region",
                    "kind",
                    "level",
                    "actor_type",
                    "cell",
                ],
                name="incident_tally_once",
            )
        ]
        indexes = [
            # A region's rows (the dashboard filtered by region).
            models.Index(
                fields=["organisation", "grain", "region", "period"], name="incident_tally_region"
            ),
            # The rows of at least k incidents (the public report's cells).
            models.Index(
                fields=["organisation", "grain", "n", "period"], name="incident_tally_count"
            ),
            # Covers the map's sums per cell (grain "cy"), read in cell order.
            models.Index(
                fields=["organisation", "grain", "cell", "period", "n"], name="incident_tally_cell"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.period:%Y-%m} {self.n}"
