"""Sealed fields (DESIGN.md section 7): values round-trip, the database holds only
ciphertext bound to its table, column and row, and the ORM refuses to query plaintext."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from amparo.core.crypto import UndecryptableValue, keyring
from amparo.people import actions
from amparo.people.models import DirectoryEntry, Person, SafeHouse
from tests.core.raw import db_pk, raw_column


@pytest.fixture
def person(world):
    return actions.create_person(
        "test",
        world.org_a,
        given_names="Zoila",
        family_names="Quispe Mamani",
        phone_numbers=["+51 982 555 0199", "+51 984 000 111"],
        email="zoila@example.pe",
        home_area="Tambopata",
        languages=["es", "qu", "Asháninka"],
    )


def test_it_round_trips_text_and_json_values(world, person):
    keyring.clear()
    loaded = Person.objects.get(pk=person.pk)
    assert loaded.given_names == "Zoila"
    assert loaded.family_names == "Quispe Mamani"
    assert loaded.display_name == "Zoila Quispe Mamani"
    assert loaded.phone_numbers == ["+51 982 555 0199", "+51 984 000 111"]
    assert loaded.languages == ["es", "qu", "Asháninka"]
    assert loaded.email == "zoila@example.pe"
    assert loaded.home_area == "Tambopata"


def test_it_round_trips_a_json_location_and_a_null(world):
    house = actions.create_safe_house(
        "test",
        world.org_a,
        region="Madre de Dios",
        name="Casa Azul",
        address="Jr. Loreto 742",
        location={"lat": -12.5934, "lon": -69.1897},
    )
    empty = actions.create_safe_house(
        "test",
        world.org_a,
        region="Madre de Dios",
        name="Casa Roja",
        address="Av. Ucayali 10",
    )
    assert SafeHouse.objects.get(pk=house.pk).location == {"lat": -12.5934, "lon": -69.1897}
    assert SafeHouse.objects.get(pk=empty.pk).location is None
    assert raw_column(SafeHouse, "location", empty.pk) is None


def test_it_keeps_only_sealed_values_in_the_database(world, person):
    for column in (
        "given_names",
        "family_names",
        "phone_numbers",
        "email",
        "home_area",
        "languages",
    ):
        raw = raw_column(Person, column, person.pk)
        assert raw.startswith("enc1:"), (column, raw)
    assert "Zoila" not in raw_column(Person, "given_names", person.pk)
    assert "555 0199" not in raw_column(Person, "phone_numbers", person.pk)
    assert "Tambopata" not in raw_column(Person, "home_area", person.pk)


def test_it_seals_the_same_value_differently_each_time(world):
    a = actions.create_person("test", world.org_a, given_names="Zoila")
    b = actions.create_person("test", world.org_a, given_names="Zoila")
    assert raw_column(Person, "given_names", a.pk) != raw_column(Person, "given_names", b.pk)


def test_it_refuses_a_sealed_value_copied_onto_another_row(world, person):
    other = actions.create_person("test", world.org_a, given_names="Rosa")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_person SET given_names = "
            "(SELECT given_names FROM people_person WHERE id = %s) WHERE id = %s",
            [db_pk(Person, person.pk), db_pk(Person, other.pk)],
        )
    assert raw_column(Person, "given_names", other.pk) == raw_column(
        Person, "given_names", person.pk
    )
    moved = Person.objects.get(pk=other.pk)
    with pytest.raises(UndecryptableValue):
        _ = moved.given_names
    # The row it came from still opens.
    assert Person.objects.get(pk=person.pk).given_names == "Zoila"


def test_it_refuses_a_sealed_value_copied_onto_another_column(world, person):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_person SET home_area = given_names WHERE id = %s",
            [db_pk(Person, person.pk)],
        )
    with pytest.raises(UndecryptableValue):
        _ = Person.objects.get(pk=person.pk).home_area


def test_it_refuses_a_sealed_value_copied_onto_another_table(world):
    entry = actions.create_directory_entry(
        "test",
        world.org_a,
        category="police",
        region="Madre de Dios",
        name="Comisaría",
    )
    house = actions.create_safe_house(
        "test",
        world.org_a,
        region="Madre de Dios",
        name="Casa Azul",
        address="Jr. Loreto 742",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_directoryentry SET name = "
            "(SELECT name FROM people_safehouse WHERE id = %s) WHERE id = %s",
            [db_pk(SafeHouse, house.pk), db_pk(DirectoryEntry, entry.pk)],
        )
    with pytest.raises(UndecryptableValue):
        _ = DirectoryEntry.objects.get(pk=entry.pk).name


def test_it_refuses_an_altered_sealed_value(world, person):
    raw = raw_column(Person, "given_names", person.pk)
    prefix, version, body = raw.split(":", 2)
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_person SET given_names = %s WHERE id = %s",
            [f"{prefix}:{version}:{flipped}", db_pk(Person, person.pk)],
        )
    with pytest.raises(UndecryptableValue):
        _ = Person.objects.get(pk=person.pk).given_names


def test_it_refuses_to_set_a_sealed_field_through_queryset_update(world, person):
    # update() marks the surrounding transaction for rollback on error; keep it inside ours.
    with pytest.raises(TypeError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(given_names="Otra")
    with pytest.raises(TypeError), transaction.atomic():
        SafeHouse.objects.update(location={"lat": 0, "lon": 0})
    assert Person.objects.get(pk=person.pk).given_names == "Zoila"


def test_it_refuses_to_filter_on_a_sealed_field(world, person):
    with pytest.raises(TypeError):
        list(Person.objects.filter(given_names="Zoila"))
    with pytest.raises(TypeError):
        list(Person.objects.filter(email__in=["zoila@example.pe"]))
    with pytest.raises(TypeError):
        list(Person.objects.exclude(home_area="Tambopata"))


@pytest.mark.parametrize("lookup", ["contains", "icontains", "startswith", "endswith", "regex"])
def test_it_refuses_pattern_lookups_on_a_sealed_field(world, person, lookup):
    with pytest.raises(TypeError):
        list(Person.objects.filter(**{f"given_names__{lookup}": "enc1"}))


def test_it_opens_a_deferred_sealed_field_on_first_read(world, person):
    loaded = Person.objects.only("id").get(pk=person.pk)
    assert "given_names" in loaded.get_deferred_fields()
    assert loaded.given_names == "Zoila"
    assert loaded.phone_numbers == ["+51 982 555 0199", "+51 984 000 111"]


def test_it_keeps_untouched_sealed_bytes_when_a_row_is_saved_again(world, person):
    before = raw_column(Person, "family_names", person.pk)
    loaded = Person.objects.get(pk=person.pk)
    loaded.home_area = "Iñapari"
    loaded.save()
    assert raw_column(Person, "family_names", person.pk) == before
    assert Person.objects.get(pk=person.pk).home_area == "Iñapari"


def test_it_reseals_a_changed_value_through_the_action(world, person):
    before = raw_column(Person, "home_area", person.pk)
    actions.update_person("test", Person.objects.get(pk=person.pk), home_area="Iñapari")
    after = raw_column(Person, "home_area", person.pk)
    assert after != before
    assert after.startswith("enc1:")
    assert "Iñapari" not in after
    assert Person.objects.get(pk=person.pk).home_area == "Iñapari"


def test_it_serialises_the_sealed_form_never_the_plaintext(world, person):
    from django.core import serializers

    text = serializers.serialize("json", [Person.objects.get(pk=person.pk)])
    assert "Zoila" not in text
    assert "enc1:" in text
