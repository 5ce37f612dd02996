def test_it_shows_the_org_home_to_a_verified_coordinator(world, login):
    c = login(world.coordinator)
    response = c.get("/o/org-a/")
    assert response.status_code == 200
    assert b"Federaci" in response.content


def test_it_hides_org_a_from_coordinator_b(world, login):
    c = login(world.coordinator_b)
    assert c.get("/o/org-a/").status_code == 404
