"""The evidence store out of space, or read-only, while a person uploads a threat report
with evidence (issue 10, point 2; DESIGN.md section 2, "Nothing is lost", and the vault's
design in amparo/incidents/vault.py).

A real web process (``amparo serve``: gunicorn) takes the uploads over loopback HTTP, from
the anonymous web form (multipart, streamed into the vault as it arrives) and the public
API (base64 in JSON). The failures are real ones from the operating system, not mocks:

- **Out of space**: the web process runs with ``RLIMIT_FSIZE`` (``ulimit -f``) at 16 MiB,
  so the kernel refuses any write past 16 MiB of a file with EFBIG, "File too large",
  part way through a 20 MiB upload: the same failure, at the same place in the code, as a
  full disk's ENOSPC. (The database is far smaller than that; on PostgreSQL it is another
  process anyway.) This works as root and as anyone else.
- **Read-only**: the evidence directories are made ``0o500``. Root ignores permission
  bits, so when the tests run as root (CI does) the web process is started without the
  capabilities that let it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, dropped
  from its bounding set before exec): it is then held to the bits like any service
  account, and creating a file there fails with EACCES, as on a store mounted read-only.

The design (vault.py, incidents.actions.report_threat): a file the vault cannot keep is
refused, and the report is saved without it, with the reason on the receipt. So for each
failure the test asserts: the person gets the receipt page (200) or the API's 201 that
names the file and says the store could not keep it (no 500, no stack trace); the report
is stored; no evidence row points to a missing blob (``amparo verify_evidence`` re-hashes
every stored file); no partial or orphan blob is left in the store; and once the store
is writable again the next upload is kept, without a restart.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import secrets
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from PIL import Image

from tests.alerts.loopback import free_port
from tests.faults.support import REPO, FaultDatabase, until

DEADLINE = 180
MiB = 1024 * 1024
FILE_SIZE_LIMIT = 16 * MiB  # RLIMIT_FSIZE of the web process
BIG_UPLOAD = 20 * MiB
SLUG = "faults"

# Started by the test in place of ``python``: lowers RLIMIT_FSIZE and, as root, drops the
# capabilities that ignore file permissions, then runs the real command (exec keeps both).
LAUNCHER = r"""
import ctypes, os, resource, sys

limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
if os.geteuid() == 0:
    libc = ctypes.CDLL(None, use_errno=True)
    PR_CAPBSET_DROP = 24
    for cap in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise SystemExit(f"cannot drop capability {cap}: errno {ctypes.get_errno()}")
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""

SEED_ORG = r"""
from amparo.people import actions as people

people.create_organisation(
    "seed", name="Federación Fallos", slug="faults", kind="indigenous_federation", country="PE",
)
"""


def jpeg(size: int) -> bytes:
    """A real JPEG header (what the vault sniffs) padded to ``size`` bytes."""
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (40, 120, 40)).save(out, "JPEG", quality=80)
    head = out.getvalue()
    return head + secrets.token_bytes(max(0, size - len(head)))


class WebServer:
    """``amparo serve`` in a subprocess under LAUNCHER, its output kept in a file."""

    def __init__(self, database: FaultDatabase, tmp_path: Path) -> None:
        self.port = free_port()
        launcher = tmp_path / "launcher.py"
        launcher.write_text(LAUNCHER, encoding="utf-8")
        self.log_path = tmp_path / "web.log"
        self._log = self.log_path.open("w", encoding="utf-8")
        env = {
            **database.env,
            "AMPARO_SECURE_COOKIES": "false",
            "AMPARO_HSTS_SECONDS": "0",
            "AMPARO_RATE_LIMITS": "false",
            # gunicorn keeps a control socket under $HOME: one of this test's own.
            "HOME": str(tmp_path),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(launcher),
                str(FILE_SIZE_LIMIT),
                "-m",
                "amparo.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--threads",
                "2",
            ],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.process.poll() is None, f"the web process died:\n{self.log()[-3000:]}"
            try:
                return self.request("GET", f"/report/{SLUG}/")[0] == 200
            except OSError:
                return False

        until(ready, 90, "the web process to answer", step=0.3)

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        # In English, which the assertions read (the pages default to Spanish).
        headers = {"Accept-Language": "en", **(headers or {})}
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            return response.status, {k.lower(): v for k, v in response.getheaders()}, text
        finally:
            conn.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def post_form(server: WebServer, name: str, content: bytes) -> tuple[int, str]:
    """The anonymous report form, as a browser posts it: the page first (CSRF cookie and
    token), then a multipart body with the file."""
    status, headers, page = server.request("GET", f"/report/{SLUG}/")
    assert status == 200, page[-2000:]
    cookie = re.search(r"csrftoken=([^;]+)", headers.get("set-cookie", ""))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert cookie and token, headers
    boundary = f"----amparo{secrets.token_hex(8)}"
    parts = []
    for field, value in (
        ("csrfmiddlewaretoken", token.group(1)),
        ("verbatim", "Nos dijeron que dejemos de denunciar la minería o nos desaparecen"),
        ("channel", "in_person"),
        ("region", "Madre de Dios"),
    ):
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; '
        f'filename="{name}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    status, _headers, text = server.request(
        "POST",
        f"/report/{SLUG}/",
        b"".join(parts),
        {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Cookie": f"csrftoken={cookie.group(1)}",
        },
    )
    return status, text


def post_api(server: WebServer, name: str, content: bytes) -> tuple[int, Any]:
    body = {
        "verbatim": "Amenaza por teléfono a la presidenta de la comunidad",
        "evidence": [{"name": name, "content_base64": base64.b64encode(content).decode()}],
    }
    status, _headers, text = server.request(
        "POST",
        f"/api/v1/public/threats/{SLUG}",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def receipt_of(page: str) -> str:
    found = re.search(r'data-testid="receipt">([A-Z0-9-]+)<', page)
    assert found, page[-3000:]
    return found.group(1)


def refused_on_page(page: str) -> str:
    """The text of the receipt page's "not accepted" block ("" when there is none)."""
    found = re.search(r'data-testid="refused-files">(.*?)</div>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


def blobs(database: FaultDatabase) -> list[str]:
    root = database.evidence_dir
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def evidence_rows(database: FaultDatabase) -> dict[str, list[tuple[str, str]]]:
    """Receipt -> (evidence id, organisation id) of each file of its report."""
    rows = database.query(
        "SELECT r.receipt, e.id, e.organisation_id FROM incidents_threatreport r "
        "LEFT JOIN incidents_evidencefile e ON e.report_id = r.id"
    )
    out: dict[str, list[tuple[str, str]]] = {}
    for receipt, evidence, organisation in rows:
        out.setdefault(receipt, [])
        if evidence is not None:  # ids as vault.blob_path names them (SQLite keeps hex)
            out[receipt].append((str(uuid.UUID(str(evidence))), str(uuid.UUID(str(organisation)))))
    return out


STORE_FAILED = "could not store it"  # vault.store_failure(), in English


def set_writable(directories: list[Path], writable: bool) -> None:
    for directory in directories:
        directory.chmod(0o700 if writable else 0o500)


def test_it_keeps_the_report_and_says_so_when_the_evidence_store_is_full_or_read_only(
    fault_db: FaultDatabase, tmp_path: Path
) -> None:
    fault_db.cli("shell", "-c", SEED_ORG)
    server = WebServer(fault_db, tmp_path)
    store = fault_db.evidence_dir
    try:
        server.wait_ready()

        # The store works: a photo is kept, sealed.
        status, page = post_form(server, "antes.jpg", jpeg(200_000))
        assert status == 200, page[-3000:]
        first = receipt_of(page)
        assert not refused_on_page(page)
        ((kept, organisation),) = evidence_rows(fault_db)[first]
        org_dir = store / organisation
        kept_blobs = blobs(fault_db)
        assert kept_blobs == [f"{organisation}/{kept}.bin"], kept_blobs

        # Out of space half way through a 20 MiB video: the kernel refuses the write at
        # 16 MiB. The report is kept without the file, and the person is told.
        status, page = post_form(server, "video-amenaza.jpg", jpeg(BIG_UPLOAD))
        assert status == 200, page[-3000:]
        full = receipt_of(page)
        refused = refused_on_page(page)
        assert "video-amenaza.jpg" in refused and STORE_FAILED in refused, refused
        assert "Your report was saved" in page
        assert "File too large" in server.log(), server.log()[-3000:]  # EFBIG, really
        assert evidence_rows(fault_db)[full] == []
        assert blobs(fault_db) == kept_blobs  # the 16 MiB written were removed

        # Read-only: nothing can be created in the store.
        set_writable([store, org_dir], False)
        try:
            status, page = post_form(server, "foto-camioneta.jpg", jpeg(300_000))
            assert status == 200, page[-3000:]
            read_only_form = receipt_of(page)
            refused = refused_on_page(page)
            assert "foto-camioneta.jpg" in refused and STORE_FAILED in refused, refused

            status, answer = post_api(server, "captura.jpg", jpeg(100_000))
            assert status == 201, answer
            assert [f["name"] for f in answer["refused_files"]] == ["captura.jpg"], answer
            assert STORE_FAILED in answer["refused_files"][0]["reason"], answer
            read_only_api = answer["receipt"]
            assert "Permission denied" in server.log(), server.log()[-3000:]  # EACCES
        finally:
            set_writable([store, org_dir], True)
        for receipt in (read_only_form, read_only_api):
            assert evidence_rows(fault_db)[receipt] == []
        assert blobs(fault_db) == kept_blobs

        # Writable again: the next upload is kept, with no restart.
        status, answer = post_api(server, "despues.jpg", jpeg(100_000))
        assert status == 201 and answer["refused_files"] == [], answer
        after = answer["receipt"]
        assert len(evidence_rows(fault_db)[after]) == 1
        assert "Traceback" not in server.log(), server.log()[-3000:]
    finally:
        server.stop()

    # Five reports, all stored; two files, each row with its blob and nothing else.
    reports = evidence_rows(fault_db)
    assert set(reports) == {first, full, read_only_form, read_only_api, after}
    assert sorted(len(files) for files in reports.values()) == [0, 0, 0, 1, 1]
    stored = [files[0] for receipt, files in reports.items() if files]
    assert blobs(fault_db) == sorted(f"{org}/{evidence}.bin" for evidence, org in stored)
    verified = fault_db.cli("verify_evidence")
    assert "2 files verified, 0 problems" in verified.stdout + verified.stderr, verified
