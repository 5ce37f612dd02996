"""``amparo backup`` and ``amparo restore`` (issue 10, point 5): one encrypted archive of
the database and the evidence store, restored into an empty data directory and a fresh
database (a new SQLite file, or a scratch PostgreSQL database), then verified: the audit
chain, every evidence file against its intake SHA-256, and a sealed field read back with
the master key. A tampered archive or a wrong key is refused and changes nothing; a file
missing from the store is reported by the backup and fails the restore's verification.

The backup runs in this process (``call_command``) on the suite's database; the restore
runs as a separate ``amparo`` process, as an operator would run it, pointed at the scratch
data directory and database."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from amparo.core import backup
from amparo.core.crypto import generate_master_key
from amparo.core.models import AuditEntry
from amparo.incidents import actions, vault
from amparo.incidents.models import EvidenceFile, ThreatReport

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
VERBATIM = "Sabemos dónde vive tu familia, deja de denunciar la mina"

# Runs `amparo <args>` through the console entry, then, after a restore that succeeded,
# prints what the restored installation holds: sealed fields opened with the master key.
SCRIPT = """
import json, sys
from amparo.cli import main
code = 0
try:
    main(["amparo", *sys.argv[1:]])
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
if code == 0 and "--check" not in sys.argv:
    from amparo.incidents.models import ThreatReport
    from amparo.people.models import Person
    print("RESTORED " + json.dumps({
        "verbatim": {r.receipt: r.verbatim for r in ThreatReport.objects.all()},
        "people": sorted(p.given_names for p in Person.objects.all()),
    }))
sys.exit(code)
"""


@pytest.fixture(autouse=True)
def store(settings, tmp_path: Path) -> Path:
    path = tmp_path / "evidence"
    path.mkdir()
    settings.EVIDENCE_DIR = path
    settings.AMPARO_BACKUP_KEY = ""
    return path


def make_report(world) -> ThreatReport:
    """A threat report with an evidence file, through the real action (which audits)."""
    photo = vault.stage_stream(
        world.org_a.pk, "amenaza.jpg", iter([JPEG, os.urandom(150_000), b"end"])
    )
    receipt = actions.report_threat(
        world.defender.user,
        world.org_a,
        {"verbatim": VERBATIM, "language": "es", "physical_violence": True},
        source="web",
        person=world.defender_person,
        evidence=[photo],
    )
    assert receipt.refused_files == []
    return receipt.report


def run(command: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@dataclass
class Target:
    """An empty installation to restore into: its own data directory and database."""

    data_dir: Path
    env: dict[str, str]
    database: str

    def amparo(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", SCRIPT, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def tables(self) -> list[str]:
        if connection.vendor == "sqlite":
            import sqlite3

            path = self.data_dir / "amparo.sqlite3"
            if not path.exists():
                return []
            with sqlite3.connect(path) as db:
                rows = db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
            return [name for (name,) in rows]
        with _admin_connection(self.database) as db:
            rows = db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        return [name for (name,) in rows]

    def evidence_files(self) -> list[Path]:
        return sorted(p for p in (self.data_dir / "evidence").rglob("*") if p.is_file())


def _admin_connection(dbname: str = "postgres"):  # type: ignore[no-untyped-def]
    import psycopg

    settings_dict = connection.settings_dict
    params = {
        "dbname": dbname,
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


@pytest.fixture(scope="module")
def scratch_database(django_db_setup, django_db_blocker) -> Iterator[str | None]:
    """On PostgreSQL, a scratch database next to the suite's own (test_<name>_restore;
    each xdist worker's test database has its own name, so this one does too), made
    here and dropped when the module is done."""
    if connection.vendor != "postgresql":
        yield None
        return
    name = f"{connection.settings_dict['NAME']}_restore"
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def target(tmp_path: Path, scratch_database: str | None) -> Target:
    data_dir = tmp_path / "restored"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DATABASE_URL_FILE", "AMPARO_EVIDENCE_DIR"}
        and not k.startswith("AMPARO_BACKUP_KEY")
    }
    env["AMPARO_DATA_DIR"] = str(data_dir)
    if scratch_database is None:
        return Target(data_dir, env, str(data_dir / "amparo.sqlite3"))
    # Emptied for each test: cheaper than a new database each time.
    with _admin_connection(scratch_database) as admin:
        admin.execute("DROP SCHEMA public CASCADE")
        admin.execute("CREATE SCHEMA public")
    settings_dict = connection.settings_dict
    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD")
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    env["DATABASE_URL"] = f"postgres://{auth}{host}:{port}/{scratch_database}"
    return Target(data_dir, env, scratch_database)


def restored_state(result: subprocess.CompletedProcess[str]) -> dict:
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESTORED ")]
    assert lines, result.stdout + result.stderr
    return json.loads(lines[-1].removeprefix("RESTORED "))


def test_it_backs_up_and_restores_into_an_empty_installation(
    transactional_db, world, store, tmp_path, target
):
    report = make_report(world)
    evidence = EvidenceFile.objects.get(report=report)
    (store / "stray.part").write_bytes(b"an upload that never finished")
    entries = AuditEntry.objects.count()
    archive = tmp_path / "backups"
    archive.mkdir()

    out, err = run("backup", str(archive))

    [written] = list(archive.iterdir())
    assert written.name.startswith("amparo-") and written.name.endswith(".amparo-backup")
    assert written.stat().st_mode & 0o777 == 0o600
    assert "database: taking a consistent snapshot" in out
    assert f"audit chain head #{entries}" in out
    assert "2 evidence file(s)" in out  # the blob and the stray upload
    assert "1 file(s) of the store are not referenced" in out
    assert err == ""
    # A backup is on the record, after the snapshot it copied.
    assert AuditEntry.objects.filter(action="backup.created").count() == 1
    # Nothing readable in the archive: not the report, not the plaintext columns.
    raw = written.read_bytes()
    for secret in (VERBATIM.encode(), b"defender@a.example", b"org-a", JPEG, b"stray"):
        assert secret not in raw

    # The archive checks out without touching anything.
    out, _ = run("restore", str(written), "--check")
    assert "archive authenticated" in out
    assert f"audit chain head: #{entries}" in out

    result = target.amparo("restore", str(written))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "archive authenticated" in result.stdout
    assert f"audit chain verified: {entries} entries; head #{entries} matches" in result.stdout
    assert "stored files verified: 1 of 1 match their intake SHA-256" in result.stdout
    assert "restore complete and verified" in result.stdout
    state = restored_state(result)
    assert state["verbatim"] == {report.receipt: VERBATIM}
    assert state["people"] == ["Rosa"]
    restored = {
        p.relative_to(target.data_dir / "evidence").as_posix() for p in target.evidence_files()
    }
    assert restored == {f"{evidence.organisation_id}/{evidence.pk}.bin", "stray.part"}
    blob = target.data_dir / "evidence" / str(evidence.organisation_id) / f"{evidence.pk}.bin"
    assert blob.read_bytes() == vault.blob_path(evidence.organisation_id, evidence.pk).read_bytes()

    # A restore over existing data is refused (this suite's own database, the restored
    # installation), unless forced.
    entries = AuditEntry.objects.count()
    with pytest.raises(CommandError, match="refusing to restore over existing data|in-memory"):
        run("restore", str(written))
    assert AuditEntry.objects.count() == entries
    again = target.amparo("restore", str(written))
    assert again.returncode == 1
    assert "refusing to restore over existing data" in again.stderr
    assert "Nothing was restored" in again.stderr
    forced = target.amparo("restore", str(written), "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "restore complete and verified" in forced.stdout
    assert restored_state(forced)["verbatim"] == {report.receipt: VERBATIM}


def flip(data: bytes, offset: int) -> bytes:
    changed = bytearray(data)
    changed[offset] ^= 0x01
    return bytes(changed)


def test_a_tampered_archive_is_refused(transactional_db, world, tmp_path):
    make_report(world)
    archive = tmp_path / "b.amparo-backup"
    run("backup", str(archive))
    data = archive.read_bytes()
    size = len(data)
    first = int.from_bytes(data[backup.HEADER_BYTES : backup.HEADER_BYTES + 4], "big")
    damaged = {
        "a bit of the header (its salt)": flip(data, backup.HEADER_BYTES - 5),
        "the key source": flip(data, len(backup.MAGIC)),
        "a bit in the middle": flip(data, size // 2),
        "the last byte": flip(data, size - 1),
        "the end cut off": data[: size - 200],
        "a byte added": data + b"\0",
        # The database alone is larger than one chunk: drop the first sealed chunk.
        "a chunk dropped": data[: backup.HEADER_BYTES] + data[backup.HEADER_BYTES + 4 + first :],
        "not an archive": b"PK\x03\x04" + data[4:],
    }
    for what, content in damaged.items():
        archive.write_bytes(content)
        with pytest.raises(CommandError) as refused:
            run("restore", str(archive), "--check")
        assert any(
            word in str(refused.value)
            for word in ("altered", "truncated", "damaged", "not an Amparo backup", "wrong key")
        ), (what, str(refused.value))


def test_a_tampered_archive_changes_nothing_in_the_target(
    transactional_db, world, tmp_path, target
):
    make_report(world)
    archive = tmp_path / "b.amparo-backup"
    run("backup", str(archive))
    archive.write_bytes(flip(archive.read_bytes(), archive.stat().st_size - 100))

    result = target.amparo("restore", str(archive))

    assert result.returncode == 1
    assert "does not open (altered or damaged)" in result.stderr
    assert "Nothing was restored" in result.stderr
    assert target.tables() == []
    assert target.evidence_files() == []
    assert not list(target.data_dir.glob(".amparo-restore-*"))


def test_the_wrong_key_is_refused(transactional_db, world, tmp_path, settings):
    make_report(world)
    derived = tmp_path / "derived.amparo-backup"
    run("backup", str(derived))
    separate_key = tmp_path / "backup.key"
    separate_key.write_text(generate_master_key())
    separate = tmp_path / "separate.amparo-backup"
    run("backup", str(separate), "--key-file", str(separate_key))
    other_key = tmp_path / "other.key"
    other_key.write_text(generate_master_key())

    # The separate key opens its archive, given as a file or as AMPARO_BACKUP_KEY.
    assert (
        "archive authenticated"
        in run("restore", str(separate), "--check", "--key-file", str(separate_key))[0]
    )
    settings.AMPARO_BACKUP_KEY = separate_key.read_text()
    assert "archive authenticated" in run("restore", str(separate), "--check")[0]

    # Another backup key.
    with pytest.raises(CommandError, match="wrong key: this archive is encrypted with the backup"):
        run("restore", str(separate), "--check", "--key-file", str(other_key))
    # No backup key at all: the archive says which it needs.
    settings.AMPARO_BACKUP_KEY = ""
    with pytest.raises(CommandError, match="encrypted with a separate backup key"):
        run("restore", str(separate), "--check")
    # The derived key's archive under another master key.
    settings.MASTER_KEY = generate_master_key()
    with pytest.raises(CommandError, match="derived from the master key of id"):
        run("restore", str(derived), "--check")
    # A backup key given for an archive made with the master key's derived key.
    with pytest.raises(CommandError, match="wrong key"):
        run("restore", str(derived), "--check", "--key-file", str(separate_key))


def test_a_missing_evidence_file_is_reported_and_fails_the_restore(
    transactional_db, world, tmp_path, target
):
    report = make_report(world)
    evidence = EvidenceFile.objects.get(report=report)
    vault.blob_path(evidence.organisation_id, evidence.pk).unlink()
    archive = tmp_path / "b.amparo-backup"
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 file\\(s\\) that the database refers to are missing"):
        call_command("backup", str(archive), stdout=io.StringIO(), stderr=err)

    # The archive is still written: everything else is in it.
    assert archive.exists()
    assert f"MISSING incidents.evidencefile {evidence.pk}" in err.getvalue()
    with pytest.raises(CommandError, match="were missing when it was made"):
        run("restore", str(archive), "--check")

    result = target.amparo("restore", str(archive))

    assert result.returncode == 1
    assert "audit chain verified" in result.stdout
    assert f"PROBLEM incidents.evidencefile {evidence.pk}: the file is missing" in result.stderr
    assert "verification FAILED: 1 problem(s)" in result.stderr


def test_an_archive_of_a_newer_schema_is_refused_before_it_is_read():
    with pytest.raises(backup.BackupError, match="made by a newer Amparo.*core.9999_future"):
        backup._check_migrations(
            {"migrations": [["core", "0001_initial"], ["core", "9999_future"]]}
        )
    backup._check_migrations({"migrations": [["core", "0001_initial"]]})
