"""``amparo createorg``: a new organisation, optionally with its first coordinator."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from amparo.people import actions
from amparo.people.models import OrganisationKind, Role


class Command(BaseCommand):
    help = (
        "Create an organisation; with --coordinator, print an invitation link for its coordinator."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True, help="short name used in URLs")
        parser.add_argument("--kind", required=True, choices=OrganisationKind.values)
        parser.add_argument("--country", required=True, help="ISO 3166 two-letter code")
        parser.add_argument("--region", default="")
        parser.add_argument("--time-zone", default="America/Lima")
        parser.add_argument("--coordinator", help="e-mail of the first security coordinator")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings
        from django.urls import reverse

        try:
            with transaction.atomic():
                organisation = actions.create_organisation(
                    "cli",
                    name=options["name"],
                    slug=options["slug"],
                    kind=options["kind"],
                    country=options["country"],
                    region=options["region"],
                    time_zone=options["time_zone"],
                )
                token = None
                if options["coordinator"]:
                    _inv, token = actions.invite(
                        "cli", organisation, email=options["coordinator"], role=Role.COORDINATOR
                    )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        self.stdout.write(f"created {organisation.slug}")
        if token:
            link = settings.BASE_URL + reverse("accept-invitation", args=[token])
            self.stdout.write(f"coordinator invitation: {link}")
