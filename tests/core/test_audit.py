"""The audit log (DESIGN.md section 7): every action appends an entry, the chain is
hash-linked, `verify_audit` proves it and names the entry that was altered or cut, and both
the ORM and the database refuse to rewrite history."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from amparo.core import audit
from amparo.core.models import AppendOnlyError, AuditEntry, AuditHead
from amparo.people import actions
from amparo.people.models import Membership, Role

# Every writer in people.actions, with a call that makes it write, the audit action it must
# record and the object the entry must name. A new action without a line here fails
# test_it_covers_every_action_in_people_actions.
Scenario = Callable[[Any], tuple[str, Any]]


def _create_organisation(world: Any) -> tuple[str, Any]:
    org = actions.create_organisation(
        world.coordinator.user, name="Red C", slug="org-c", kind="ngo", country="pe"
    )
    return "organisation.created", org


def _add_membership(world: Any) -> tuple[str, Any]:
    m = actions.add_membership(
        world.coordinator.user, world.org_a, world.coordinator_b.user, Role.PARTNER
    )
    return "membership.added", m


def _remove_membership(world: Any) -> tuple[str, Any]:
    m = Membership.objects.get(user=world.focal_point.user, organisation=world.org_a)
    pk = m.pk
    actions.remove_membership(world.coordinator.user, m)
    m.pk = pk  # delete() cleared it; the entry names the row that was removed
    return "membership.removed", m


def _create_user(world: Any) -> tuple[str, Any]:
    user = actions.create_user(world.coordinator.user, email="new@a.example", password="x" * 12)
    return "user.created", user


def _set_language(world: Any) -> tuple[str, Any]:
    actions.set_language(world.defender.user, world.defender.user, "en")
    return "user.language_changed", world.defender.user


def _set_duress_password(world: Any) -> tuple[str, Any]:
    actions.set_duress_password(world.defender.user, world.defender.user, "otra-clave-9")
    return "user.duress_password_set", world.defender.user


def _log_out_everywhere(world: Any) -> tuple[str, Any]:
    actions.log_out_everywhere(world.defender.user, world.defender.user)
    return "user.logged_out_everywhere", world.defender.user


def _record_mfa_device(world: Any) -> tuple[str, Any]:
    actions.record_mfa_device(world.defender.user, world.defender.user, "totp")
    return "user.mfa_enrolled", world.defender.user


def _invite(world: Any) -> tuple[str, Any]:
    invitation, _token = actions.invite(
        world.coordinator.user, world.org_a, email="new@a.example", role=Role.DEFENDER
    )
    return "invitation.created", invitation


def _accept_invitation(world: Any) -> tuple[str, Any]:
    invitation, token = actions.invite(
        world.coordinator.user, world.org_a, email="new@a.example", role=Role.DEFENDER
    )
    user = actions.create_user("test", email="new@a.example", password="x" * 12)
    actions.accept_invitation(user, token)
    return "invitation.accepted", invitation


def _revoke_invitation(world: Any) -> tuple[str, Any]:
    invitation, _token = actions.invite(
        world.coordinator.user, world.org_a, email="new@a.example", role=Role.DEFENDER
    )
    actions.revoke_invitation(world.coordinator.user, invitation)
    return "invitation.revoked", invitation


def _create_api_token(world: Any) -> tuple[str, Any]:
    token, _secret = actions.create_api_token(world.coordinator.user, world.coordinator.user, "n")
    return "api_token.created", token


def _revoke_api_token(world: Any) -> tuple[str, Any]:
    token, _secret = actions.create_api_token(world.coordinator.user, world.coordinator.user, "n")
    actions.revoke_api_token(world.coordinator.user, token)
    return "api_token.revoked", token


def _create_person(world: Any) -> tuple[str, Any]:
    person = actions.create_person(world.coordinator.user, world.org_a, given_names="Zoila")
    return "person.created", person


def _update_person(world: Any) -> tuple[str, Any]:
    actions.update_person(world.coordinator.user, world.defender_person, home_area="Iñapari")
    return "person.updated", world.defender_person


def _archive_person(world: Any) -> tuple[str, Any]:
    actions.archive_person(world.coordinator.user, world.defender_person)
    return "person.archived", world.defender_person


def _set_chain_of_command(world: Any) -> tuple[str, Any]:
    boss = actions.create_person("test", world.org_a, given_names="Jefa")
    actions.set_chain_of_command(
        world.coordinator.user, world.defender_person, supervisor=boss, emergency_rank=2
    )
    return "person.chain_of_command_set", world.defender_person


def _entry(world: Any) -> Any:
    return actions.create_directory_entry(
        "test", world.org_a, category="police", region="Madre de Dios", name="Comisaría"
    )


def _create_directory_entry(world: Any) -> tuple[str, Any]:
    entry = actions.create_directory_entry(
        world.coordinator.user,
        world.org_a,
        category="hospital",
        region="Madre de Dios",
        name="Hospital Santa Rosa",
    )
    return "directory_entry.created", entry


def _update_directory_entry(world: Any) -> tuple[str, Any]:
    entry = _entry(world)
    actions.update_directory_entry(world.coordinator.user, entry, phone="+51 82 571 900")
    return "directory_entry.updated", entry


def _archive_directory_entry(world: Any) -> tuple[str, Any]:
    entry = _entry(world)
    actions.archive_directory_entry(world.coordinator.user, entry)
    return "directory_entry.archived", entry


def _house(world: Any) -> Any:
    return actions.create_safe_house(
        "test", world.org_a, region="Madre de Dios", name="Casa", address="Jr. Loreto 742"
    )


def _create_safe_house(world: Any) -> tuple[str, Any]:
    house = actions.create_safe_house(
        world.coordinator.user,
        world.org_a,
        region="Madre de Dios",
        name="Casa Azul",
        address="Jr. Loreto 742",
    )
    return "safe_house.created", house


def _update_safe_house(world: Any) -> tuple[str, Any]:
    house = _house(world)
    actions.update_safe_house(world.coordinator.user, house, capacity=4)
    return "safe_house.updated", house


def _archive_safe_house(world: Any) -> tuple[str, Any]:
    house = _house(world)
    actions.archive_safe_house(world.coordinator.user, house)
    return "safe_house.archived", house


SCENARIOS: dict[str, Scenario] = {
    "create_organisation": _create_organisation,
    "add_membership": _add_membership,
    "remove_membership": _remove_membership,
    "create_user": _create_user,
    "set_language": _set_language,
    "log_out_everywhere": _log_out_everywhere,
    "set_duress_password": _set_duress_password,
    "record_mfa_device": _record_mfa_device,
    "invite": _invite,
    "accept_invitation": _accept_invitation,
    "revoke_invitation": _revoke_invitation,
    "create_api_token": _create_api_token,
    "revoke_api_token": _revoke_api_token,
    "create_person": _create_person,
    "update_person": _update_person,
    "archive_person": _archive_person,
    "set_chain_of_command": _set_chain_of_command,
    "create_directory_entry": _create_directory_entry,
    "update_directory_entry": _update_directory_entry,
    "archive_directory_entry": _archive_directory_entry,
    "create_safe_house": _create_safe_house,
    "update_safe_house": _update_safe_house,
    "archive_safe_house": _archive_safe_house,
}


def writing_actions() -> set[str]:
    """Public functions of people.actions that run in a transaction: the writers."""
    return {
        name
        for name, function in vars(actions).items()
        if inspect.isfunction(function)
        and function.__module__ == actions.__name__
        and not name.startswith("_")
        and hasattr(function, "__wrapped__")
    }


def last_seq() -> int:
    entry = AuditEntry.objects.order_by("-seq").first()
    return entry.seq if entry else 0


def run_verify(capsys: Any) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    status: Any = 0
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as exc:
        status = exc.code
    except CommandError as exc:
        status = exc.returncode
        err.write(str(exc))
    captured = capsys.readouterr()
    return (status or 0), out.getvalue() + captured.out, err.getvalue() + captured.err


def seqs_named(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"#(\d+)\b", text)}


def lift_guards() -> None:
    """What an attacker with database access does first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_append_only"
            )
        else:
            cursor.execute("DROP TRIGGER core_auditentry_no_update")
            cursor.execute("DROP TRIGGER core_auditentry_no_delete")


def raw_details(seq: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT details FROM core_auditentry WHERE seq = %s", [seq])
        value = cursor.fetchone()[0]
    return value if isinstance(value, str) else json.dumps(value)


def write_raw_details(seq: int, text: str) -> None:
    cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE core_auditentry SET details = {cast} WHERE seq = %s", [text, seq])  # noqa: S608


# Every action writes an entry


def test_it_covers_every_action_in_people_actions():
    assert writing_actions() == set(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_it_writes_an_entry_for_every_action(world, name):
    before = last_seq()
    expected_action, obj = SCENARIOS[name](world)
    entries = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))
    matching = [e for e in entries if e.action == expected_action]
    assert matching, f"{name} wrote {[e.action for e in entries]}, not {expected_action}"
    entry = matching[-1]
    assert entry.object_type == obj._meta.label_lower
    assert entry.object_id == str(obj.pk)
    org_id = getattr(obj, "organisation_id", None) or (
        obj.pk if obj._meta.label_lower == "people.organisation" else None
    )
    if org_id is not None:
        assert str(entry.organisation_id) == str(org_id)
    assert entry.actor.startswith("user:") or entry.actor in {"test", "cli", "system"}
    count, breaks = audit.verify_chain()
    assert breaks == []
    assert count == AuditEntry.objects.count()


def test_it_names_the_acting_user(world):
    person = actions.create_person(world.coordinator.user, world.org_a, given_names="Zoila")
    entry = AuditEntry.objects.get(action="person.created", object_id=str(person.pk))
    assert entry.actor == f"user:{world.coordinator.user.pk}"


def test_it_writes_no_entry_when_an_action_is_refused(world):
    from django.core.exceptions import ValidationError

    before = last_seq()
    with pytest.raises(ValidationError):
        actions.create_person("test", world.org_a, given_names="Zoila", phone_numbers=["call me"])
    assert last_seq() == before
    assert AuditHead.objects.get(pk=1).seq == before


def test_it_keeps_plaintext_of_sealed_fields_out_of_the_details(world):
    person = actions.create_person(world.coordinator.user, world.org_a, given_names="Zoila")
    actions.update_person(world.coordinator.user, person, family_names="Quispe Mamani")
    entry = AuditEntry.objects.filter(action="person.updated").order_by("-seq").first()
    assert entry.details == {"fields": ["family_names"]}
    dumped = json.dumps([e.details for e in AuditEntry.objects.all()], ensure_ascii=False)
    assert "Quispe" not in dumped
    assert "Zoila" not in dumped


def test_it_links_each_entry_to_the_one_before(world):
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == audit.GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.entry_hash
    head = AuditHead.objects.get(pk=1)
    assert (head.seq, head.last_hash) == (entries[-1].seq, entries[-1].entry_hash)


# verify_audit


def test_it_verifies_a_clean_chain(world, capsys):
    status, out, err = run_verify(capsys)
    assert status == 0, err
    assert f"audit chain verified: {AuditEntry.objects.count()} entries" in out
    assert AuditEntry.objects.count() > 5


def test_it_verifies_an_empty_chain(db, capsys):
    status, out, _err = run_verify(capsys)
    assert status == 0
    assert "audit chain verified: 0 entries" in out


def coordinator_added() -> AuditEntry:
    """An entry in the middle of the chain: org A's coordinator joining."""
    entry = (
        AuditEntry.objects.filter(action="membership.added", details__role="coordinator")
        .order_by("seq")
        .first()
    )
    assert entry is not None
    assert entry.seq != last_seq()
    return entry


def test_it_names_an_entry_whose_details_were_altered(world, capsys):
    target = coordinator_added()
    lift_guards()
    text = raw_details(target.seq)
    assert text.count('"coordinator"') == 1, text
    write_raw_details(target.seq, text.replace('"coordinator"', '"coordinatos"'))
    assert AuditEntry.objects.get(seq=target.seq).details != target.details

    status, _out, err = run_verify(capsys)
    assert status != 0
    assert f"#{target.seq}" in err
    assert seqs_named(err) == {target.seq}


def test_it_names_an_entry_whose_action_was_altered(world, capsys):
    target = coordinator_added()
    lift_guards()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET action = %s WHERE seq = %s",
            ["membership.addeD", target.seq],
        )
    status, _out, err = run_verify(capsys)
    assert status != 0
    assert f"#{target.seq}" in err
    assert seqs_named(err) == {target.seq}


def test_it_names_an_entry_whose_time_was_altered(world, capsys):
    target = AuditEntry.objects.order_by("seq")[2]
    lift_guards()
    with connection.cursor() as cursor:
        cursor.execute("SELECT at FROM core_auditentry WHERE seq = %s", [target.seq])
        (at,) = cursor.fetchone()
    from datetime import timedelta

    from django.utils.dateparse import parse_datetime

    moved = (parse_datetime(at) if isinstance(at, str) else at) - timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET at = %s WHERE seq = %s",
            [connection.ops.adapt_datetimefield_value(moved), target.seq],
        )
    status, _out, err = run_verify(capsys)
    assert status != 0
    assert f"#{target.seq}" in err


def test_it_detects_a_deleted_last_entry(world, capsys):
    last = last_seq()
    lift_guards()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE seq = %s", [last])
    assert last_seq() == last - 1
    status, _out, err = run_verify(capsys)
    assert status != 0
    assert f"#{last}" in err


def test_it_names_the_entry_after_a_deleted_one(world, capsys):
    lift_guards()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE seq = %s", [3])
    status, _out, err = run_verify(capsys)
    assert status != 0
    assert "#4" in err


def test_it_detects_a_rehashed_entry_by_the_link_of_the_next(world, capsys):
    """Recomputing the altered entry's own hash does not help: the next entry still
    points at the old one."""
    target = coordinator_added()
    forged = audit.chain_hash(
        target.prev_hash,
        audit.canonical(
            target.seq,
            target.at,
            target.actor,
            target.organisation_id,
            "membership.removed",
            target.object_type,
            target.object_id,
            target.details,
        ),
    )
    lift_guards()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET action = %s, entry_hash = %s WHERE seq = %s",
            ["membership.removed", forged, target.seq],
        )
    status, _out, err = run_verify(capsys)
    assert status != 0
    assert f"#{target.seq + 1}" in err


# Nothing rewrites history


def test_it_refuses_updates_and_deletes_through_the_orm(world):
    entry = AuditEntry.objects.order_by("seq").first()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(seq=entry.seq).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(seq=entry.seq).delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    entry.action = "x"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["action"])
    assert AuditEntry.objects.get(seq=entry.seq).action == "organisation.created"


def test_it_refuses_raw_updates_and_deletes_in_the_database(world, capsys):
    entry = AuditEntry.objects.order_by("seq").first()
    count = AuditEntry.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE core_auditentry SET action = %s WHERE seq = %s", ["x", entry.seq]
            )
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditentry WHERE seq = %s", [entry.seq])
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditentry")
    assert AuditEntry.objects.count() == count
    assert AuditEntry.objects.get(seq=entry.seq).action == "organisation.created"
    status, _out, _err = run_verify(capsys)
    assert status == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_it_refuses_truncate_in_postgresql(world):
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE core_auditentry")


def test_it_appends_with_consecutive_numbers_and_moves_the_head(world):
    before = AuditHead.objects.get(pk=1)
    entry = audit.record("test", "test.event", details={"n": 1})
    head = AuditHead.objects.get(pk=1)
    assert entry.seq == before.seq + 1
    assert entry.prev_hash == before.last_hash
    assert (head.seq, head.last_hash) == (entry.seq, entry.entry_hash)


def test_it_runs_the_writes_it_describes_first_with_the_read_of_the_head(world, capsys):
    """``record_many(entries, after=writes)``: the writes run, then the entries are
    chained after the head; on PostgreSQL writes and head read are one query."""
    from django.test.utils import CaptureQueriesContext

    from amparo.core.db import prepared

    membership = Membership.objects.filter(organisation=world.org_a).first()
    assert membership is not None
    writes = [
        prepared.update(Membership.objects.filter(pk=membership.pk), role=Role.LAWYER),
        prepared.update(Membership.objects.filter(pk=-1), role=Role.ADMIN),  # no such row
    ]
    before = AuditEntry.objects.count()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        entries = audit.record_many([audit.Pending("test", "test.described", membership)], writes)
    membership.refresh_from_db()
    assert membership.role == Role.LAWYER
    assert AuditEntry.objects.count() == before + 1
    assert entries[0].prev_hash == AuditEntry.objects.get(seq=entries[0].seq - 1).entry_hash
    sent = [q for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    if connection.vendor == "postgresql":
        # The two writes and the head's read went in one round trip (as prepared
        # statements in a pipeline), then the entry and the head's move in another, as
        # one statement (the insert a WITH of the update).
        trips = [q["round_trip"] for q in sent]
        assert trips == [trips[0]] * 3 + [trips[0] + 1]
        assert [q["sql"].split()[0] for q in sent] == ["UPDATE", "UPDATE", "SELECT", "WITH"]
        assert sent[2]["sql"].endswith("FOR UPDATE")
        assert "INSERT INTO" in sent[3]["sql"] and "UPDATE" in sent[3]["sql"]
    else:
        assert sent[0]["sql"].startswith("UPDATE") and sent[1]["sql"].startswith("UPDATE")
    status, _out, err = run_verify(capsys)
    assert status == 0, err
