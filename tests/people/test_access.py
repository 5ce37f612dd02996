"""people.access.access_organisation_by_slug: the organisation and the user's roles in it,
read in one query; no such organisation and not a member both answer 404."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from amparo.people import actions
from amparo.people.access import access_organisation_by_slug
from amparo.people.models import Role


def test_it_gives_the_organisation_and_every_role_of_the_user_in_one_query(world):
    user = world.coordinator.user
    actions.add_membership("test", world.org_a, user, Role.SIGNATORY)
    with CaptureQueriesContext(connection) as queries:
        ctx = access_organisation_by_slug(user, world.org_a.slug)
    assert len(queries) == 1
    assert ctx.organisation == world.org_a
    assert ctx.organisation.name == world.org_a.name
    assert ctx.roles == {Role.COORDINATOR, Role.SIGNATORY}
    assert ctx.user == user


def test_it_answers_404_to_a_non_member_an_unknown_slug_and_no_one(world):
    with pytest.raises(Http404):
        access_organisation_by_slug(world.coordinator_b.user, world.org_a.slug)
    with pytest.raises(Http404):
        access_organisation_by_slug(world.coordinator.user, "no-such-organisation")
    with pytest.raises(Http404):
        access_organisation_by_slug(AnonymousUser(), world.org_a.slug)
