"""Crisis cases over the API (``/api/v1/crisis``): open (by hand and from an alert),
list, get, tasks, completing a task, the timeline; all in OpenAPI."""

from __future__ import annotations

from amparo.crisis.models import CrisisCase


def test_it_opens_a_case_from_an_alert_and_works_it(world, api_client, alert):
    c = api_client(world.coordinator)
    response = c.post(
        "/api/v1/crisis/cases",
        {"organisation": "org-a", "kind": "kidnapping", "alert_id": str(alert.pk)},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "kidnapping"
    assert body["media_blackout"] is True
    assert body["alert_id"] == str(alert.pk)
    assert body["seconds_to_open"] is not None
    case_id = body["id"]
    assert [c["id"] for c in c.get("/api/v1/crisis/cases?organisation=org-a").json()] == [case_id]
    assert c.get(f"/api/v1/crisis/cases/{case_id}").json()["id"] == case_id
    tasks = c.get(f"/api/v1/crisis/cases/{case_id}/tasks").json()
    assert len(tasks) == 8
    assert tasks[0]["due_at"] and tasks[0]["role"] == "lead"
    done = c.post(
        f"/api/v1/crisis/cases/{case_id}/tasks/{tasks[0]['id']}/complete",
        {"note": "Hecho", "checked": [0, 1, 99]},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["done_at"] is not None
    assert done.json()["checked"] == [0, 1]
    again = c.post(
        f"/api/v1/crisis/cases/{case_id}/tasks/{tasks[0]['id']}/complete",
        {},
        content_type="application/json",
    )
    assert again.status_code == 422
    note = c.post(
        f"/api/v1/crisis/cases/{case_id}/timeline",
        {"text": "Embajada informada"},
        content_type="application/json",
    )
    assert note.status_code == 201
    timeline = c.get(f"/api/v1/crisis/cases/{case_id}/timeline").json()
    assert [e["kind"] for e in timeline] == ["opened", "blackout", "task_done", "note"]
    assert timeline[-1]["text"] == "Embajada informada"
    assert CrisisCase.objects.get().first_task_done_at is not None


def test_it_opens_a_case_by_hand(world, api_client):
    response = api_client(world.coordinator).post(
        "/api/v1/crisis/cases",
        {"organisation": "org-a", "kind": "eviction", "title": "Desalojo en la comunidad"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["media_blackout"] is False
    assert response.json()["title"] == "Desalojo en la comunidad"


def test_an_unknown_kind_is_422(world, api_client):
    response = api_client(world.coordinator).post(
        "/api/v1/crisis/cases",
        {"organisation": "org-a", "kind": "volcano"},
        content_type="application/json",
    )
    assert response.status_code == 422


def test_an_alert_of_another_organisation_is_404(world, api_client, alert):
    response = api_client(world.coordinator_b).post(
        "/api/v1/crisis/cases",
        {"organisation": "org-b", "kind": "kidnapping", "alert_id": str(alert.pk)},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not CrisisCase.objects.exists()


def test_the_routes_are_in_openapi(world):
    from amparo.api import api

    paths = api.get_openapi_schema()["paths"]
    assert "/api/v1/crisis/cases" in paths
    assert "/api/v1/crisis/cases/{case_id}/tasks/{task_id}/complete" in paths
    assert "/api/v1/crisis/cases/{case_id}/timeline" in paths
