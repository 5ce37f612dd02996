"""The duress password (DESIGN.md section 7). Tried only after the real password failed:
it signs the person in to a harmless view, and the alerts app silently raises a high
alert. Nothing on the screen shows that anything happened."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password
from django.dispatch import Signal
from django.http import HttpRequest

from amparo.people.models import User

# Sent when someone signs in with their duress password; alerts raises the alert.
duress_signed_in = Signal()


class DuressBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password:
            return None
        user = User.objects.filter(email=username.strip().lower()).first()
        if user is None or not user.duress_password or not user.is_active:
            return None
        if not check_password(password, user.duress_password):
            return None
        if request is not None:
            request.amparo_duress = True  # type: ignore[attr-defined]
        return user
