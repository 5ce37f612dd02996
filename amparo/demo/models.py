"""The demo's stand-in for real gateways: messages that would go out by SMS, e-mail or
webhook arrive here (over real HTTP, through Apprise's json:// plugin) and are shown at
/demo/inbox/. Only `amparo demo` turns this on (AMPARO_DEMO_INBOX)."""

from __future__ import annotations

from django.db import models


class DemoInboxMessage(models.Model):
    received_at = models.DateTimeField(auto_now_add=True)
    channel = models.CharField(max_length=12)
    recipient = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    body = models.TextField()
    idempotency_key = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient}"
