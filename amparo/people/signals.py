from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from amparo.people.auth import duress_signed_in


@receiver(user_logged_in)
def mark_duress_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and getattr(request, "amparo_duress", False):
        request.session["amparo_duress"] = True
        duress_signed_in.send(sender=type(user), user=user)
