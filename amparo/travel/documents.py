"""A deployment's annexes in the evidence vault (``incidents.vault``): the travel
programme and external security assessments.

Reference, "Preparation of Danish personnel": "The travel program must be attached as an
annex" to the travel declaration (the ``programme_annex`` fact of the declaration gate),
and "Use external security assessments (e.g., SOS International)".

The file is sealed as it arrives, exactly as threat evidence is; its name is sealed in
its row and never written to the audit log (a file name can say where the traveller
goes).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.incidents import vault
from amparo.people.models import User
from amparo.travel.models import Deployment, TravelDocument


def _staged(
    deployment: Deployment, upload: vault.StagedEvidence | UploadedFile
) -> vault.StagedEvidence:
    """The file as the vault staged it: already, when the request streamed through
    ``VaultUploadHandler``; else staged now from its chunks (a test, an import)."""
    if isinstance(upload, vault.StagedEvidence):
        return upload
    staged = getattr(upload, "staged", None)
    if isinstance(staged, vault.StagedEvidence):
        return staged
    return vault.stage_stream(deployment.organisation_id, upload.name or "file", upload.chunks())


def attach_document(
    actor: Any,
    deployment: Deployment,
    kind: str,
    upload: vault.StagedEvidence | UploadedFile,
) -> TravelDocument:
    """Keep an uploaded annex of ``deployment``: the row and the audit entry in one
    transaction, the staged blob made final just before it commits (removed if it does
    not). A refused file (its type, its size) is a ValidationError naming why."""
    staged = _staged(deployment, upload)
    try:
        if kind not in TravelDocument.Kind.values:
            raise ValidationError({"kind": _("Choose the kind of document.")})
        if staged.organisation_id != deployment.organisation_id:
            raise ValidationError({"file": _("The file was not staged for this organisation.")})
        if staged.refused:
            raise ValidationError(
                {"file": _("The file was not accepted: %(reason)s.") % {"reason": staged.refused}}
            )
        with transaction.atomic():
            document = TravelDocument.objects.create(
                **{**staged.row_fields(), "organisation_id": deployment.organisation_id},
                deployment=deployment,
                kind=kind,
                uploaded_at=timezone.now(),
                uploaded_by=actor if isinstance(actor, User) else None,
            )
            audit.record(
                actor,
                "deployment.document_attached",
                deployment,
                details={
                    "document": str(document.pk),
                    "kind": kind,
                    "sha256": staged.sha256,
                    "size": staged.size,
                    "content_type": staged.content_type,
                },
            )
            staged.commit()
    except BaseException:
        staged.discard()
        raise
    return document


def read_document(actor: Any, document: TravelDocument) -> Iterator[bytes]:
    """The plaintext of an annex, chunk by chunk, once the download is audited."""
    with transaction.atomic():
        audit.record(
            actor,
            "deployment.document_downloaded",
            document.deployment,
            details={"document": str(document.pk), "kind": document.kind},
        )
    return vault.read_blob(
        vault.blob_path(document.organisation_id, document.pk),
        document.pk,
        vault.decode_key(document.file_key),
    )
