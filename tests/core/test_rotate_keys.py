"""`amparo rotate-keys` (DESIGN.md section 7: key rotation is a command): new data keys
re-seal every value; a new master key re-wraps the data keys; a wrong master key changes
nothing."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from amparo.core import crypto
from amparo.core.audit import verify_chain
from amparo.core.crypto import generate_master_key, keyring, master_key_id, sealed_version
from amparo.core.fields import encrypted_fields, scope_of
from amparo.core.models import AuditEntry, DataKey
from amparo.people import actions
from amparo.people.models import Person, SafeHouse
from tests.core.raw import data_key_snapshot, plaintext_snapshot, sealed_models, sealed_snapshot


@pytest.fixture(autouse=True)
def fresh_keyring():
    keyring.clear()
    yield
    keyring.clear()


@pytest.fixture
def records(world):
    actions.create_person(
        "test",
        world.org_a,
        given_names="Zoila",
        family_names="Quispe Mamani",
        phone_numbers=["+51 982 555 0199"],
        email="zoila@example.pe",
        home_area="Tambopata",
    )
    actions.create_person("test", world.org_b, given_names="Evo", home_area="Cobija")
    actions.create_directory_entry(
        "test",
        world.org_a,
        category="lawyer",
        region="Madre de Dios",
        name="Dra. Ccori",
        phone="+51 82 571 900",
        address="Jr. Loreto 742",
    )
    actions.create_safe_house(
        "test",
        world.org_a,
        region="Madre de Dios",
        name="Casa Azul",
        address="Jr. Loreto 742",
        location={"lat": -12.59, "lon": -69.18},
    )
    actions.create_safe_house(
        "test",
        world.org_b,
        region="Pando",
        name="Casa Roja",
        address="Av. 9 de Febrero",
    )
    return world


def latest_versions() -> dict[str, int]:
    latest: dict[str, int] = {}
    for key in DataKey.objects.order_by("scope", "version"):
        latest[key.scope] = key.version
    return latest


def rotate(*args: str, **options: object) -> str:
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_it_creates_a_new_data_key_per_organisation(records):
    before = latest_versions()
    assert {f"org:{records.org_a.pk}", f"org:{records.org_b.pk}"} <= set(before)
    output = rotate()
    assert output.strip()
    after = latest_versions()
    assert after == {scope: version + 1 for scope, version in before.items()}
    # Old keys stay, to read whatever another process sealed with them meanwhile.
    for scope, version in before.items():
        assert DataKey.objects.filter(scope=scope, version=version).exists()
    for scope, version in after.items():
        assert DataKey.objects.get(scope=scope, version=version).retired_at is None


def test_it_reseals_every_encrypted_value_under_the_new_keys(records):
    plain_before = plaintext_snapshot()
    raw_before = sealed_snapshot()
    assert len(raw_before) > 20
    rotate()
    keyring.clear()
    latest = latest_versions()
    checked = 0
    for model in sealed_models():
        for instance in model._base_manager.all():
            for field in encrypted_fields(model):
                raw = instance.__dict__[field.attname]
                if raw is None:
                    continue
                assert sealed_version(raw) == latest[scope_of(instance)], (model, field.name)
                checked += 1
    assert checked == sum(1 for v in raw_before.values() if v is not None)
    raw_after = sealed_snapshot()
    assert all(raw_after[k] != v for k, v in raw_before.items() if v is not None)
    assert plaintext_snapshot() == plain_before


def test_it_keeps_sealing_new_values_under_the_new_key(records):
    rotate()
    keyring.clear()
    person = actions.create_person("test", records.org_a, given_names="Nueva")
    raw = Person.objects.filter(pk=person.pk).values_list("given_names", flat=True)[0]
    assert sealed_version(raw) == latest_versions()[f"org:{records.org_a.pk}"]


def test_it_changes_nothing_with_a_wrong_master_key(records):
    raw_before = sealed_snapshot()
    keys_before = data_key_snapshot()
    audit_before = AuditEntry.objects.count()
    with override_settings(MASTER_KEY=generate_master_key()):
        keyring.clear()
        with pytest.raises(CommandError) as refused:
            rotate()
        keyring.clear()
    assert re.search(r"master[ _]key", str(refused.value), re.IGNORECASE), str(refused.value)
    assert sealed_snapshot() == raw_before
    assert data_key_snapshot() == keys_before
    assert AuditEntry.objects.count() == audit_before
    # And everything still opens with the right key.
    assert Person.objects.get(pk=records.defender_person.pk).given_names == "Rosa"


def test_it_rewraps_the_data_keys_under_a_new_master_key(records, tmp_path):
    plain_before = plaintext_snapshot()
    new_master = generate_master_key()
    path = tmp_path / "new-master-key"
    path.write_text(new_master + "\n", encoding="utf-8")
    rotate(new_master_key_file=str(path))

    new_id = master_key_id(crypto.parse_master_key(new_master))
    assert set(DataKey.objects.values_list("master_key_id", flat=True)) == {new_id}
    with override_settings(MASTER_KEY=new_master):
        keyring.clear()
        assert plaintext_snapshot() == plain_before
        house = SafeHouse.objects.get(region="Madre de Dios")
        assert house.location == {"lat": -12.59, "lon": -69.18}
        keyring.clear()
    # The old master key no longer opens anything.
    keyring.clear()
    with pytest.raises(crypto.CryptoError):
        _ = Person.objects.get(pk=records.defender_person.pk).given_names


def test_it_refuses_an_unreadable_or_malformed_new_master_key_file(records, tmp_path):
    keys_before = data_key_snapshot()
    raw_before = sealed_snapshot()
    with pytest.raises(CommandError):
        rotate(new_master_key_file=str(tmp_path / "missing"))
    bad = tmp_path / "bad"
    bad.write_text("not a key", encoding="utf-8")
    with pytest.raises(CommandError):
        rotate(new_master_key_file=str(bad))
    assert data_key_snapshot() == keys_before
    assert sealed_snapshot() == raw_before


def test_it_audits_a_rotation(records):
    rotate()
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "keys.rotated"
    assert entry.details["values"] == sum(1 for v in sealed_snapshot().values() if v is not None)
    assert verify_chain()[1] == []
