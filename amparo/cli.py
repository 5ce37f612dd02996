"""The ``amparo`` console command: Django's management commands under one name.

``amparo demo`` also makes the demo's secrets when none are given, so that the README's
first command works on a fresh machine; no other command invents a secret.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def _demo_secrets() -> None:
    data_dir = Path(os.environ.get("AMPARO_DATA_DIR", "var")).resolve()
    secrets_dir = data_dir / "demo-secrets"
    for name, make in (("SECRET_KEY", _random_secret), ("AMPARO_MASTER_KEY", _master_key)):
        if os.environ.get(name) or os.environ.get(f"{name}_FILE"):
            continue
        path = secrets_dir / name.lower()
        if not path.exists():
            secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(make(), encoding="utf-8")
            path.chmod(0o600)
        os.environ[f"{name}_FILE"] = str(path)


def _demo_gateways(argv: list[str]) -> None:
    """Point every channel that has no real gateway at the demo inbox of this server."""
    port = "8000"
    for flag in ("--port",):
        if flag in argv and argv.index(flag) + 1 < len(argv):
            port = argv[argv.index(flag) + 1]
    host = "127.0.0.1"
    if "--host" in argv and argv.index("--host") + 1 < len(argv):
        host = argv[argv.index("--host") + 1]
    os.environ.setdefault("AMPARO_DEMO_INBOX", "true")
    os.environ.setdefault("AMPARO_BASE_URL", f"http://{host}:{port}")
    for channel in ("sms", "email", "webhook", "signal", "telegram"):
        os.environ.setdefault(
            f"AMPARO_{channel.upper()}_URL",
            f"json://{host}:{port}/demo/inbox/{channel}/?:to={{to}}",
        )


def _random_secret() -> str:
    import secrets

    return secrets.token_urlsafe(50)


def _master_key() -> str:
    import base64
    import secrets

    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amparo.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        # `amparo verify-audit` runs Django's `verify_audit`.
        argv[1] = argv[1].replace("-", "_")
    if len(argv) > 1 and argv[1] == "demo":
        _demo_secrets()
        # The demo serves plain HTTP on loopback: cookies marked Secure would never return.
        os.environ.setdefault("AMPARO_SECURE_COOKIES", "false")
        os.environ.setdefault("AMPARO_HSTS_SECONDS", "0")
        # The demo is read by a person at a terminal, not by a log collector.
        os.environ.setdefault("AMPARO_LOG_FORMAT", "text")
        _demo_gateways(argv)
    if len(argv) > 1 and argv[1] == "keygen":
        # Needs no settings: prints a fresh master key for AMPARO_MASTER_KEY.
        print(_master_key())
        return
    try:
        import django
        from django.core.management import execute_from_command_line

        django.setup()  # loads settings first, so a missing secret stops us here
        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        print(f"amparo: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
