"""``amparo token create --user EMAIL``: an API token for an integration (printed once)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from amparo.people import actions
from amparo.people.models import ApiToken, User


class Command(BaseCommand):
    help = "Create, list or revoke API tokens (sent as 'Authorization: Bearer <token>')."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="create a token and print it once")
        create.add_argument("--user", required=True, help="the account's e-mail")
        create.add_argument("--name", default="integration", help="what the token is for")
        listing = sub.add_parser("list", help="list a user's tokens (prefixes only)")
        listing.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "revoke":
            token = ApiToken.objects.filter(
                prefix=options["prefix"], revoked_at__isnull=True
            ).first()
            if token is None:
                raise CommandError(f"no active token starts with {options['prefix']}")
            actions.revoke_api_token("cli", token)
            self.stdout.write(f"revoked {token.prefix}")
            return
        user = User.objects.filter(email=options["user"].strip().lower()).first()
        if user is None:
            raise CommandError(f"no account with e-mail {options['user']}")
        if verb == "create":
            _token, secret = actions.create_api_token("cli", user, options["name"])
            self.stdout.write(secret)
        else:
            for token in ApiToken.objects.filter(user=user).order_by("created_at"):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.prefix}  {state}  {token.name}  {token.created_at:%Y-%m-%d}"
                )
