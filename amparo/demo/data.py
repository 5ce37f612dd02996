"""The demo world: organisations from Madre de Dios, Tambopata, Pando and a Danish NGO,
a user for every role, directory entries for Puerto Maldonado and Cobija, and the real
map layers. People and places are invented (marked "demo"); public emergency numbers
(105 and 116 in Peru, 110, 118 and 119 in Bolivia) are real."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from amparo.channels.openrosa.actions import create_device
from amparo.channels.sms.actions import set_inbound_token
from amparo.crisis.demo import build_closed_case
from amparo.monitoring.layers import load_reference_layers
from amparo.people import actions
from amparo.people.models import (
    DirectoryCategory as C,
)
from amparo.people.models import (
    Organisation,
    Person,
    Role,
    User,
)

ACTOR = "demo"

ORGANISATIONS = [
    # slug, name, kind, country, region, time zone
    (
        "federacion-mdd",
        "Federación Indígena de Madre de Dios (demo)",
        "indigenous_federation",
        "PE",
        "Madre de Dios",
        "America/Lima",
    ),
    (
        "puesto-tambopata",
        "Puesto de Vigilancia Guardaparques Tambopata (demo)",
        "public_institution",
        "PE",
        "Madre de Dios, Tambopata",
        "America/Lima",
    ),
    (
        "comunidad-pando",
        "Organización Comunitaria Amazónica de Pando (demo)",
        "community",
        "BO",
        "Pando",
        "America/La_Paz",
    ),
    ("dansk-ngo", "Dansk Skovforsvar (demo NGO)", "ngo", "DK", "København", "Europe/Copenhagen"),
]

# slug, local part, role, given names, family names, community role, language
PEOPLE = [
    (
        "federacion-mdd",
        "coordinadora",
        Role.COORDINATOR,
        "Lucía",
        "Mamani Ccori",
        "ngo_staff",
        "es",
    ),
    ("federacion-mdd", "admin", Role.ADMIN, "Julio", "Ríos Vargas", "ngo_staff", "es"),
    (
        "federacion-mdd",
        "defensora",
        Role.DEFENDER,
        "Rosa",
        "Huamán Tije",
        "indigenous_leader",
        "es",
    ),
    (
        "federacion-mdd",
        "monitor",
        Role.FOCAL_POINT,
        "Elías",
        "Yine Sirena",
        "community_monitor",
        "es",
    ),
    ("federacion-mdd", "supervisor", Role.SUPERVISOR, "Marco", "Quispe León", "ngo_staff", "es"),
    ("federacion-mdd", "abogada", Role.LAWYER, "Carmen", "Salas Nina", "other", "es"),
    ("federacion-mdd", "psicologa", Role.PSYCHOLOGIST, "Ana", "Torres Pari", "other", "es"),
    ("federacion-mdd", "aliado", Role.PARTNER, "Defensoría", "aliada", "other", "es"),
    ("puesto-tambopata", "jefe", Role.COORDINATOR, "Víctor", "Condori Apaza", "park_ranger", "es"),
    (
        "puesto-tambopata",
        "guardaparque",
        Role.DEFENDER,
        "Nilo",
        "Chávez Huarca",
        "park_ranger",
        "es",
    ),
    (
        "comunidad-pando",
        "coordinador",
        Role.COORDINATOR,
        "Hugo",
        "Ese Eja Moreno",
        "community_member",
        "es",
    ),
    (
        "comunidad-pando",
        "lider",
        Role.DEFENDER,
        "Teresa",
        "Takana Cuéllar",
        "indigenous_leader",
        "es",
    ),
    (
        "comunidad-pando",
        "monitora",
        Role.FOCAL_POINT,
        "Delia",
        "Cavineño Roca",
        "community_monitor",
        "es",
    ),
    ("dansk-ngo", "director", Role.SIGNATORY, "Mette", "Jørgensen", "ngo_staff", "da"),
    ("dansk-ngo", "finance", Role.SIGNATORY, "Søren", "Madsen", "ngo_staff", "en"),
    ("dansk-ngo", "security", Role.COORDINATOR, "Ida", "Nielsen", "ngo_staff", "en"),
    ("dansk-ngo", "fieldstaff", Role.DEFENDER, "Anders", "Holm", "ngo_staff", "en"),
]

# Titles for the Danish NGO's headquarters staff (reference, "Preparation of Danish
# personnel": the Executive Director and the Head of Finance & Programmes sign).
TITLES = {
    ("dansk-ngo", "director"): "Executive Director",
    ("dansk-ngo", "finance"): "Head of Finance & Programmes",
    ("dansk-ngo", "security"): "Security coordinator",
}

PUERTO_MALDONADO = "Madre de Dios, Puerto Maldonado"
COBIJA = "Pando, Cobija"

DIRECTORY = [
    (C.POLICE, PUERTO_MALDONADO, "Policía Nacional del Perú - emergencias", "105", "", True),
    (
        C.POLICE,
        PUERTO_MALDONADO,
        "Comisaría de Puerto Maldonado (demo)",
        "+51 82 000 101",
        "Centro, Puerto Maldonado",
        True,
    ),
    (C.FIRE_STATION, PUERTO_MALDONADO, "Bomberos del Perú - emergencias", "116", "", True),
    (
        C.HOSPITAL,
        PUERTO_MALDONADO,
        "Hospital regional (demo)",
        "+51 82 000 102",
        "Puerto Maldonado",
        True,
    ),
    (
        C.HEALTH_CENTRE,
        PUERTO_MALDONADO,
        "Centro de salud Nuevo Milenio (demo)",
        "+51 82 000 103",
        "",
        False,
    ),
    (
        C.WATCH_GROUP,
        PUERTO_MALDONADO,
        "Ronda vecinal Tambopata (demo)",
        "+51 982 000 104",
        "",
        False,
    ),
    (
        C.SECURITY_POST,
        PUERTO_MALDONADO,
        "Puesto de control La Pampa (demo)",
        "+51 982 000 105",
        "Interoceánica km 98",
        True,
    ),
    (C.LAWYER, PUERTO_MALDONADO, "Abogada de confianza (demo)", "+51 982 000 106", "", False),
    (
        C.SAFE_MEETING_POINT,
        PUERTO_MALDONADO,
        "Punto de encuentro: plaza principal (demo)",
        "",
        "Plaza de Armas, Puerto Maldonado",
        False,
    ),
    (C.POLICE, COBIJA, "Policía Boliviana - emergencias", "110", "", True),
    (C.HOSPITAL, COBIJA, "Ambulancias - emergencias", "118", "", True),
    (C.FIRE_STATION, COBIJA, "Bomberos - emergencias", "119", "", True),
    (C.HOSPITAL, COBIJA, "Hospital de Cobija (demo)", "+591 3 000 0201", "Cobija", True),
    (
        C.WATCH_GROUP,
        COBIJA,
        "Vigilancia comunitaria Filadelfia (demo)",
        "+591 7 000 0202",
        "",
        False,
    ),
    (C.SAFE_MEETING_POINT, COBIJA, "Punto de encuentro: parroquia (demo)", "", "Cobija", False),
]

MENTAL_HEALTH = [
    (
        PUERTO_MALDONADO,
        "Psicóloga especializada en trauma (demo)",
        "+51 982 000 107",
        ["trauma", "threats", "violence", "kidnapping", "sexual_assault"],
    ),
    (COBIJA, "Centro de atención psicosocial (demo)", "+591 7 000 0203", ["trauma", "violence"]),
]

DANISH = [
    (
        C.EMERGENCY_CENTRE,
        "Denmark",
        "Udenrigsministeriets Globale Vagtcenter",
        "+45 33 92 11 12",
        "",
        True,
    ),
    (
        C.CONSULATE,
        "Peru, Lima",
        "Consulado de Dinamarca en Lima (demo)",
        "+51 1 000 0301",
        "Lima",
        False,
    ),
    (
        C.CONSULATE,
        "Bolivia, La Paz",
        "Consulado de Dinamarca en La Paz (demo)",
        "+591 2 000 0302",
        "La Paz",
        False,
    ),
]


@dataclass
class DemoUser:
    email: str
    password: str
    roles: list[str]
    organisation: str
    title: str
    totp_secret: str | None
    # The number this person's SMS commands come from (ALERTA, OK <code>, ...).
    phone: str


def demo_phone(country: str, index: int) -> str:
    """Invented numbers in each country's format, one per demo person."""
    prefix = {"PE": "+51 900 000", "BO": "+591 7000 0", "DK": "+45 2000 0"}[country]
    return f"{prefix}{index:03d}"


def _password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def build(domain: str = "demo.amparo.invalid") -> dict[str, Any]:
    """Create the demo world. Returns what demo.json records. Idempotent: an existing
    demo organisation is left as it is and its users get fresh passwords."""
    users: list[DemoUser] = []
    organisations: dict[str, Organisation] = {}
    for slug, name, kind, country, region, tz in ORGANISATIONS:
        existing = Organisation.objects.filter(slug=slug).first()
        organisations[slug] = existing or actions.create_organisation(
            ACTOR, name=name, slug=slug, kind=kind, country=country, region=region, time_zone=tz
        )

    people: dict[tuple[str, str], Person] = {}
    for slug, local, role, given, family, community_role, language in PEOPLE:
        org = organisations[slug]
        email = f"{local}@{slug}.{domain}"
        password = _password()
        user = User.objects.filter(email=email).first()
        if user is None:
            user = actions.create_user(ACTOR, email=email, password=password, language=language)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        actions.add_membership(ACTOR, org, user, role)
        person = Person.objects.filter(organisation=org, user=user).first()
        if person is None:
            person = actions.create_person(
                ACTOR,
                org,
                given_names=given,
                family_names=family,
                user=user,
                community_role=community_role,
                preferred_language=language,
                time_zone=org.time_zone,
                email=email,
                phone_numbers=[demo_phone(org.country, len(people))],
                languages=["es"] if language == "es" else [language, "es"],
            )
        people[(slug, local)] = person
        phone = (person.phone_numbers or [""])[0]
        totp = None
        if role != Role.DEFENDER:
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is None:
                device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
            totp = base64.b32encode(device.bin_key).decode().rstrip("=")
        users.append(
            DemoUser(email, password, [role], slug, TITLES.get((slug, local), ""), totp, phone)
        )

    _chain(people)
    for slug in ("federacion-mdd", "puesto-tambopata"):
        _directory(
            organisations[slug],
            [e for e in DIRECTORY if e[1] == PUERTO_MALDONADO],
            [m for m in MENTAL_HEALTH if m[0] == PUERTO_MALDONADO],
        )
    _directory(
        organisations["comunidad-pando"],
        [e for e in DIRECTORY if e[1] == COBIJA],
        [m for m in MENTAL_HEALTH if m[0] == COBIJA],
    )
    _directory(organisations["dansk-ngo"], DANISH + [e for e in DIRECTORY if e[0] == C.POLICE], [])
    _safe_houses(organisations)
    _threat_reports(organisations["federacion-mdd"], people)
    build_closed_case(organisations["federacion-mdd"])
    layers = load_reference_layers(ACTOR)

    tokens = {}
    for slug, local, role, *_rest in PEOPLE:
        if role == Role.COORDINATOR:
            user = User.objects.get(email=f"{local}@{slug}.{domain}")
            _token, secret = actions.create_api_token(ACTOR, user, "demo scripts")
            tokens[slug] = secret
    # Each organisation's token for the generic inbound SMS webhook
    # (POST /channels/sms/generic/<slug>/?token=... with From and Body).
    sms_tokens = {slug: set_inbound_token(ACTOR, org) for slug, org in organisations.items()}
    # Each organisation's OpenRosa app user (ODK Collect server URL: /openrosa/<slug>).
    openrosa = {
        slug: create_device(ACTOR, org, label="demo") for slug, org in organisations.items()
    }
    return {
        "users": [u.__dict__ for u in users],
        "sms_tokens": sms_tokens,
        "openrosa_users": {
            slug: {"server_url": f"/openrosa/{slug}", "username": d.username, "password": p}
            for slug, (d, p) in openrosa.items()
        },
        "organisations": [
            {"slug": o.slug, "name": o.name, "kind": o.kind, "country": o.country}
            for o in organisations.values()
        ],
        "api_tokens": tokens,
        "layers": [{"slug": layer.slug, "features": layer.feature_count} for layer in layers],
        # The anonymous report form of each organisation (no account needed).
        "report_pages": {slug: f"/report/{slug}/" for slug in organisations},
    }


def _chain(people: dict[tuple[str, str], Person]) -> None:
    lines = [
        # person, supervisor, emergency rank
        (("federacion-mdd", "defensora"), ("federacion-mdd", "supervisor"), None),
        (("federacion-mdd", "monitor"), ("federacion-mdd", "supervisor"), None),
        (("federacion-mdd", "supervisor"), ("federacion-mdd", "coordinadora"), 2),
        (("federacion-mdd", "coordinadora"), None, 1),
        (("puesto-tambopata", "guardaparque"), ("puesto-tambopata", "jefe"), None),
        (("puesto-tambopata", "jefe"), None, 1),
        (("comunidad-pando", "lider"), ("comunidad-pando", "coordinador"), None),
        (("comunidad-pando", "monitora"), ("comunidad-pando", "coordinador"), None),
        (("comunidad-pando", "coordinador"), None, 1),
        (("dansk-ngo", "fieldstaff"), ("dansk-ngo", "security"), None),
        (("dansk-ngo", "security"), ("dansk-ngo", "director"), 2),
        (("dansk-ngo", "finance"), ("dansk-ngo", "director"), 3),
        (("dansk-ngo", "director"), None, 1),
    ]
    for who, boss, rank in lines:
        person = people[who]
        if person.supervisor_id or person.emergency_rank:
            continue
        actions.set_chain_of_command(
            ACTOR, person, supervisor=people[boss] if boss else None, emergency_rank=rank
        )


def _directory(org: Organisation, entries: list[Any], mental_health: list[Any]) -> None:
    if org.directory.exists():
        return
    for category, region, name, phone, address, always in entries:
        actions.create_directory_entry(
            ACTOR,
            org,
            category=category,
            region=region,
            name=name,
            phone=phone,
            address=address,
            available_24h=always,
        )
    for region, name, phone, specialties in mental_health:
        actions.create_directory_entry(
            ACTOR,
            org,
            category=C.MENTAL_HEALTH,
            region=region,
            name=name,
            phone=phone,
            specialties=specialties,
        )


def _safe_houses(organisations: dict[str, Organisation]) -> None:
    houses = [
        (
            "federacion-mdd",
            PUERTO_MALDONADO,
            "Casa de acogida A (demo)",
            "Dirección reservada (demo)",
            {"lat": -12.5933, "lon": -69.1891},
            4,
        ),
        (
            "comunidad-pando",
            COBIJA,
            "Casa segura B (demo)",
            "Dirección reservada (demo)",
            {"lat": -11.0267, "lon": -68.7692},
            3,
        ),
    ]
    for slug, region, name, address, location, capacity in houses:
        org = organisations[slug]
        if org.safe_houses.exists():
            continue
        actions.create_safe_house(
            ACTOR,
            org,
            region=region,
            name=name,
            address=address,
            location=location,
            capacity=capacity,
            contact="",
            notes="",
        )


def _demo_photo() -> bytes:
    """A small real PNG (a green square), the demo's photo evidence."""
    import struct
    import zlib

    width = height = 32
    rows = b"".join(b"\x00" + b"\x2e\x8b\x57" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _threat_reports(org: Organisation, people: dict[tuple[str, str], Person]) -> None:
    """Three invented reports of the reference's three levels, through report_threat like
    any channel; once (an organisation that has reports keeps them)."""
    from amparo.incidents import actions as incidents
    from amparo.incidents import vault
    from amparo.incidents.models import ThreatReport

    if ThreatReport.objects.filter(organisation=org).exists():
        return
    defender = people[(org.slug, "defensora")]
    monitor = people[(org.slug, "monitor")]
    photo = vault.stage_stream(org.pk, "moto-frente-al-local.png", iter([_demo_photo()]))
    incidents.report_threat(
        monitor.user,
        org,
        {
            "occurred_at": "2026-11-20T19:10:00-05:00",
            "place": "Salida del local de la federación, Puerto Maldonado (demo)",
            "region": "Madre de Dios",
            "community": "Comunidad nativa demo",
            "channel": "in_person",
            "verbatim": "Sabemos a qué hora sales. Deja de denunciar las dragas. (demo)",
            "perpetrator_description": "Dos hombres en moto roja, sin placa (demo)",
            "physical_violence": False,
            "attempted_assault": False,
            "imminent_harm_signs": ["vehicles_watching"],
            "source_illicit_activity": "illegal_mining",
            "shows_knowledge_of_work": True,
            "source_known": False,
        },
        source="web",
        person=defender,
        evidence=[photo],
    )
    incidents.report_threat(
        defender.user,
        org,
        {
            "occurred_at": "2026-11-24T08:00:00-05:00",
            "place": "Mensaje al teléfono personal (demo)",
            "region": "Madre de Dios",
            "channel": "text_message",
            "verbatim": "Ya sabemos quién eres y dónde trabajas. (demo)",
            "physical_violence": False,
            "attempted_assault": False,
            "imminent_harm_signs": [],
            "source_illicit_activity": "illegal_logging",
            "shows_knowledge_of_work": True,
        },
        source="web",
        person=defender,
    )
    incidents.report_threat(
        defender.user,
        org,
        {
            "occurred_at": "2026-11-26T15:00:00-05:00",
            "region": "Madre de Dios",
            "channel": "social_media",
            "verbatim": "Comentario insultante de una cuenta anónima. (demo)",
            "physical_violence": False,
            "attempted_assault": False,
            "imminent_harm_signs": [],
            "source_illicit_activity": "none",
            "shows_knowledge_of_work": False,
            "source_known": False,
        },
        source="web",
        person=defender,
    )
