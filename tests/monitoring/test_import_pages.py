"""The import pages (issue 7, point 6): upload, column mapping, saved presets, and the
import running as a background task (django-tasks, database backend) while the progress
page refreshes itself without JavaScript; rows that cannot be read are listed with the
reason."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.management.commands import db_worker
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from amparo.core import crypto
from amparo.monitoring.models import ImportJob, ImportPreset, ImportState, Incident

CSV = (
    "ref;fecha;pais;tipo;victima;lat;lon\n"
    "a1;2024-03-01;Perú;threat;Rosa Sellada;-12.59;-69.18\n"
    "a2;01/04/2024;BO;Killing;;;\n"
    "a3;mañana;PE;threat;;;\n"
    "a4;2024-03-02;Atlantis;threat;;;\n"
    "a5;2024-03-03;PE;volcano;;;\n"
    "a1;2024-03-04;PE;threat;;;\n"
    "a7;2024-03-05;PE;threat;;-95;10\n"
)
MAPPING = {
    "col_external_id": "ref",
    "col_occurred_on": "fecha",
    "col_country": "pais",
    "col_kind": "tipo",
    "col_latitude": "lat",
    "col_longitude": "lon",
    "id_name": "victima",
    "default_level": "medium",
    "save_as": "Red local",
}


@pytest.fixture(autouse=True)
def keys_as_committed(world):
    crypto.keyring._uncommitted.clear()


@pytest.fixture
def run_tasks(monkeypatch):
    """django-tasks' own database worker, in batch mode: it claims each ready task, runs
    it and records the result, then stops. Its check for stale connections would close
    the test's connection (inside the test's transaction on PostgreSQL): not here."""
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    return _run_tasks


def _run_tasks():
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    ).run()


def url(name, **kwargs):
    return reverse(name, kwargs={"slug": "org-a", **kwargs})


def upload(client, content=CSV, preset=""):
    response = client.post(
        url("monitoring-imports"),
        {"file": SimpleUploadedFile("red.csv", content.encode()), "preset": preset},
    )
    assert response.status_code == 302, response.content[:2000]
    return ImportJob.objects.latest("created_at")


def test_it_maps_queues_runs_in_the_background_and_reports(world, login, run_tasks):
    client = login(world.coordinator)
    job = upload(client)
    assert job.state == ImportState.MAPPING
    page = client.get(url("monitoring-import-mapping", job_id=job.pk)).content.decode()
    assert "<code>fecha</code>" in page
    response = client.post(url("monitoring-import-mapping", job_id=job.pk), MAPPING)
    assert response.status_code == 302
    assert response["Location"] == url("monitoring-import", job_id=job.pk)
    job.refresh_from_db()
    assert job.state == ImportState.QUEUED
    task = DBTaskResult.objects.get()
    assert task.task_path == "amparo.monitoring.imports.run_import_task"
    assert not Incident.objects.exists()  # nothing ran in the request

    queued = client.get(url("monitoring-import", job_id=job.pk)).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in queued
    assert 'value="0" max="7"' in queued

    run_tasks()
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert task.return_value == {"imported": 2, "rejected": 5}
    job.refresh_from_db()
    assert job.state == ImportState.DONE
    assert (job.total_rows, job.processed_rows, job.imported_rows) == (7, 7, 2)
    reasons = {item["row"]: item["reason"] for item in job.rejected}
    assert set(reasons) == {4, 5, 6, 7, 8}
    assert "mañana" in reasons[4]
    assert "Atlantis" in reasons[5]
    assert "volcano" in reasons[6]
    assert "a1" in reasons[7]
    assert job.content == ""

    rosa = Incident.objects.get(external_id="a1")
    assert (rosa.country, rosa.kind, rosa.level) == ("PE", "threat", "medium")
    assert rosa.identity == {"name": "Rosa Sellada"}
    assert rosa.location == {"lat": -12.59, "lon": -69.18} and rosa.cell
    killing = Incident.objects.get(external_id="a2")
    assert (killing.kind, str(killing.occurred_on), killing.identity) == (
        "killing",
        "2024-04-01",
        None,
    )

    done = client.get(url("monitoring-import", job_id=job.pk)).content.decode()
    assert "http-equiv" not in done
    assert "Atlantis" in done
    assert ImportPreset.objects.get(name="Red local").mapping["columns"]["occurred_on"] == "fecha"


def test_the_progress_page_shows_a_running_import(world, login):
    client = login(world.coordinator)
    job = upload(client)
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.RUNNING, total_rows=1733, processed_rows=500, imported_rows=498
    )
    page = client.get(url("monitoring-import", job_id=job.pk)).content.decode()
    assert '<meta http-equiv="refresh"' in page
    assert 'value="500" max="1733"' in page
    assert "28%" in page


def test_it_uses_the_global_witness_preset(world, login, run_tasks):
    from tests.monitoring.test_import_global_witness import GW_FILE, file_rows

    client = login(world.coordinator)
    client.get(url("monitoring-imports"))
    preset = ImportPreset.objects.get(builtin="global_witness")
    job = upload(client, GW_FILE.read_text(encoding="utf-8"), preset=str(preset.pk))
    assert job.mapping["columns"]["occurred_on"] == "date"
    assert (
        client.post(
            url("monitoring-import-mapping", job_id=job.pk),
            {
                "col_external_id": "id",
                "col_occurred_on": "date",
                "col_country": "country",
                "col_region": "local_region",
                "col_actor_type": "perpetrator_type",
                "col_sector": "industry_driver",
                "col_victims": "number_of_victims",
                "id_name": "name",
                "id_gender": "gender",
                "id_age": "age",
                "id_characteristics": "person_characteristics",
                "default_kind": "killing",
                "default_level": "high",
            },
        ).status_code
        == 302
    )
    run_tasks()
    job.refresh_from_db()
    assert job.imported_rows + len(job.rejected) == len(file_rows())
    assert Incident.objects.filter(actor_type="hitmen").exists()


def test_a_mapping_without_a_date_is_refused(world, login):
    client = login(world.coordinator)
    job = upload(client)
    response = client.post(
        url("monitoring-import-mapping", job_id=job.pk), {"default_kind": "threat"}
    )
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.state == ImportState.MAPPING
    assert not DBTaskResult.objects.exists()


def test_only_the_coordinator_imports(world, login):
    for persona in (world.defender, world.focal_point, world.supervisor):
        assert login(persona).get(url("monitoring-imports")).status_code == 404
