"""The default playbooks, built from the reference's "Crisis scenarios" (kidnapping or
hostage situations, fraud or deception, what the ministry and embassies can and cannot
do, the NGO's responsibilities, repatriation of deceased staff) and Strategy 6, line 1
(unlawful detention, armed attack, forced eviction). Each text is stored in Spanish and
English; the organisation can edit them (a new version, see ``actions.revise_playbook``).

A task is ``(role, minutes after activation, title, guidance, directory categories to
call, sub-checklist)``; first-hour tasks first (DESIGN.md section 5, "Crisis")."""

from __future__ import annotations

from typing import Any

from amparo.crisis.models import CrisisKind, CrisisRole
from amparo.people.models import DirectoryCategory as Dir

MIN = 1
HOUR = 60
DAY = 24 * HOUR


def t(es: str, en: str) -> dict[str, str]:
    return {"es": es, "en": en}


def task(
    role: str,
    offset: int,
    title: dict[str, str],
    guidance: dict[str, str],
    contacts: list[str] | None = None,
    checklist: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "role": str(role),
        "offset_minutes": offset,
        "title": title,
        "guidance": guidance,
        "contact_categories": [str(c) for c in contacts or []],
        "checklist": checklist or [],
    }


# Reference, "What the ministry of foreign affairs and Danish embassies can assist with".
MINISTRY_CAN = {
    "title": t(
        "Lo que el Ministerio de Relaciones Exteriores y las embajadas pueden hacer",
        "What the Ministry of Foreign Affairs and embassies can do",
    ),
    "items": [
        t(
            "Asesorar y asistir a familiares o empleadores durante toda la detención.",
            "Provide advice and assistance to relatives or employers throughout the "
            "detention period.",
        ),
        t(
            "Coordinar el contacto con otras autoridades pertinentes.",
            "Coordinate contact with other relevant authorities.",
        ),
        t(
            "En algunos casos, dialogar con las autoridades del país donde la persona está "
            "detenida.",
            "In some cases, engage in dialogue with authorities in the country where the "
            "person is detained.",
        ),
        t(
            "Orientar sobre comunicación y relaciones con los medios.",
            "Provide guidance on communication and media relations.",
        ),
        t(
            "Remitir a abogados locales en el país de detención.",
            "Refer to local lawyers in the country of detention.",
        ),
        t(
            "Emitir un nuevo pasaporte o documento de viaje si hace falta.",
            "Issue a new passport or travel document if required.",
        ),
        t(
            "En ciertas circunstancias, recibir a la persona liberada a su llegada y ayudar "
            "con el contacto familiar.",
            "In certain circumstances, receive the released person upon arrival and assist "
            "with family contact.",
        ),
    ],
}

# Reference, "What the ministry of foreign affairs and Danish embassies cannot do".
MINISTRY_CANNOT = {
    "title": t(
        "Lo que el Ministerio y las embajadas no pueden hacer",
        "What the ministry and embassies cannot do",
    ),
    "items": [
        t(
            "Negociar la liberación de rehenes ni pagar rescates.",
            "Negotiate the release of hostages or pay ransom.",
        ),
        t(
            "Cubrir gastos de transporte o asistencia legal, ni en el país de origen ni en el "
            "extranjero.",
            "Cover expenses for transport or legal assistance, either at home or abroad.",
        ),
        t(
            "Dar asesoría legal sobre las leyes locales del país donde se retiene a la persona.",
            "Provide legal advice on local laws in the country where the person is held.",
        ),
    ],
}

# Reference, "NGO responsibilities".
NGO_RESPONSIBILITIES = {
    "title": t("Responsabilidades de la ONG", "The NGO's responsibilities"),
    "items": [
        t(
            "Seguro de secuestro y rescate (K&R): rescate, negociadores profesionales, "
            "evacuación y atención posterior.",
            "Kidnap and ransom (K&R) insurance: ransom, professional negotiators, evacuation "
            "and aftercare.",
        ),
        t(
            "Apoyo legal preacordado: una lista de abogados locales de confianza.",
            "Pre-arranged legal support: a list of trusted local lawyers.",
        ),
        t(
            "Negociación profesional: nada de contacto improvisado con los secuestradores; "
            "el equipo de crisis de la aseguradora o negociadores externos.",
            "Professional negotiation: no improvised contact with kidnappers; the insurer's "
            "crisis response team or third-party negotiators.",
        ),
        t(
            "Todo el personal desplegado conoce la política de rescate, negociación y "
            "comunicación antes de viajar.",
            "All deployed staff are briefed on the ransom, negotiation and communication "
            "policy before travel.",
        ),
    ],
}

KIDNAPPING = {
    "kind": CrisisKind.KIDNAPPING,
    "media_blackout": True,
    "title": t("Secuestro o toma de rehenes", "Kidnapping or hostage-taking"),
    "summary": t(
        "Activación inmediata de la cadena de mando y coordinación con las autoridades "
        "locales e internacionales. Sin prensa ni medios.",
        "Immediate activation of the chain of command and coordination with local and "
        "international authorities. No press or media.",
    ),
    "panels": [MINISTRY_CAN, MINISTRY_CANNOT, NGO_RESPONSIBILITIES],
    "tasks": [
        task(
            CrisisRole.LEAD,
            15 * MIN,
            t("Colegas en el lugar: no intentar un rescate", "Colleagues on site: no rescue"),
            t(
                "Confirme lo que se sabe y diga a los colegas en el lugar que no intenten un "
                "rescate.",
                "Confirm what is known and tell colleagues on site not to attempt a rescue.",
            ),
            [Dir.CO_WORKER, Dir.SUPERVISOR],
            [
                t("Colegas en el lugar informados: no rescatar", "Colleagues told: no rescue"),
                t("Roles del equipo de crisis asignados", "Crisis team roles assigned"),
            ],
        ),
        task(
            CrisisRole.LEAD,
            30 * MIN,
            t(
                "Informar de inmediato a las autoridades locales y a la embajada o consulado",
                "Inform local authorities and the embassy or consulate at once",
            ),
            t(
                "Los colegas en el lugar informan a la policía local y a la embajada o el "
                "consulado.",
                "Colleagues on site inform the local police and the embassy or consulate.",
            ),
            [Dir.POLICE, Dir.EMBASSY, Dir.CONSULATE],
            [
                t("Autoridades locales informadas", "Local authorities informed"),
                t("Embajada o consulado informado", "Embassy or consulate informed"),
            ],
        ),
        task(
            CrisisRole.COMMUNICATOR,
            30 * MIN,
            t(
                "Notificar a la sede por la cadena de mando",
                "Notify headquarters through the chain of command",
            ),
            t(
                "Siga la cadena de mando establecida; una sola voz hacia fuera.",
                "Follow the established chain of command; one voice outwards.",
            ),
            [Dir.SUPERVISOR],
        ),
        task(
            CrisisRole.MEDIA,
            30 * MIN,
            t("Apagón de medios: nada de prensa", "Media blackout: no press or media"),
            t(
                "Cuanta más atención pública, más alto el rescate: no contacte a la prensa ni "
                "a los medios.",
                "The more public attention, the higher the ransom demand: do not contact "
                "the press or media.",
            ),
            [],
            [
                t("Personal informado: sin prensa ni redes", "Staff told: no press, no posts"),
                t(
                    "Familiares pedidos no hablar con la prensa",
                    "Relatives asked not to speak to the press",
                ),
                t(
                    "Publicaciones sobre la persona suspendidas",
                    "Social media about the person paused",
                ),
            ],
        ),
        task(
            CrisisRole.FAMILY_LIAISON,
            1 * HOUR,
            t(
                "Contactar al Centro Global de Emergencias del Ministerio (24/7)",
                "Contact the ministry's Global Emergency Centre (24/7)",
            ),
            t(
                "Familiares o empleador llaman al Centro Global de Emergencias o a la "
                "representación en el extranjero. Un funcionario del caso será el único punto "
                "de contacto con las autoridades.",
                "Relatives or the employer call the Global Emergency Centre or the "
                "representation abroad. A dedicated case officer becomes the single point of "
                "contact with the authorities.",
            ),
            [Dir.EMERGENCY_CENTRE, Dir.EMBASSY],
            [
                t("Centro Global de Emergencias llamado", "Global Emergency Centre called"),
                t(
                    "Nombre y número del funcionario del caso anotados",
                    "Case officer's name and number noted",
                ),
                t(
                    "Familia informada del único punto de contacto",
                    "Family told of the single point of contact",
                ),
            ],
        ),
        task(
            CrisisRole.LEAD,
            1 * HOUR,
            t(
                "Activar el equipo de crisis de la aseguradora K&R",
                "Engage the K&R insurer's crisis response team",
            ),
            t(
                "Nada de contacto improvisado con los secuestradores: negociadores "
                "profesionales, por la aseguradora o una empresa de seguridad.",
                "No improvised contact with the kidnappers: professional negotiators, "
                "through the insurer or a security firm.",
            ),
            [],
            [
                t("Póliza y número de emergencia encontrados", "Policy and emergency number found"),
                t("Equipo de crisis de la aseguradora activado", "Insurer's crisis team engaged"),
                t("Negociador profesional acordado", "Professional negotiator arranged"),
            ],
        ),
        task(
            CrisisRole.LEGAL,
            4 * HOUR,
            t("Contactar abogados locales de confianza", "Contact trusted local lawyers"),
            t(
                "De la lista preacordada, verificada por socios, otras ONG o redes "
                "internacionales.",
                "From the pre-arranged list, screened through partners, other NGOs or "
                "international networks.",
            ),
            [Dir.LAWYER],
        ),
        task(
            CrisisRole.LOGISTICS,
            1 * DAY,
            t(
                "Comprobar que el personal conoce la política de rescate",
                "Check that staff are briefed on the ransom policy",
            ),
            t(
                "Todo el personal desplegado conoce la política de rescate, negociación y "
                "comunicación; canales seguros y redundantes.",
                "Every deployed colleague knows the ransom, negotiation and communication "
                "policy; secure, redundant channels.",
            ),
            [],
            [
                t("Personal desplegado informado", "Deployed staff briefed"),
                t("Canales seguros comprobados", "Secure channels checked"),
            ],
        ),
    ],
}

FRAUD = {
    "kind": CrisisKind.FRAUD,
    "media_blackout": False,
    "title": t("Fraude o engaño", "Fraud or deception"),
    "summary": t(
        "Algunos supuestos secuestros resultan ser fraudes. El Ministerio puede ayudar a "
        "evaluar la situación y aclarar los hechos.",
        "Some alleged kidnappings turn out to be fraud. The ministry can help assess the "
        "situation and clarify the facts.",
    ),
    "panels": [MINISTRY_CAN, MINISTRY_CANNOT],
    "tasks": [
        task(
            CrisisRole.LEAD,
            15 * MIN,
            t("No pagar ni actuar ante la exigencia", "Do not pay or act on the demand"),
            t(
                "Guarde cada mensaje, número y hora. No negocie.",
                "Keep every message, number and time. Do not negotiate.",
            ),
        ),
        task(
            CrisisRole.COMMUNICATOR,
            30 * MIN,
            t(
                "Intentar contactar a la persona por canales conocidos",
                "Try to reach the person through known channels",
            ),
            t(
                "Sus teléfonos, colegas en el lugar, su alojamiento.",
                "Their phones, colleagues on site, their accommodation.",
            ),
            [Dir.CO_WORKER],
        ),
        task(
            CrisisRole.FAMILY_LIAISON,
            1 * HOUR,
            t(
                "Pedir al Ministerio que ayude a verificar el supuesto secuestro",
                "Ask the ministry to help verify the alleged kidnapping",
            ),
            t(
                "El Centro Global de Emergencias ayuda a evaluar y aclarar los hechos.",
                "The Global Emergency Centre helps assess the situation and clarify the facts.",
            ),
            [Dir.EMERGENCY_CENTRE, Dir.EMBASSY],
        ),
        task(
            CrisisRole.LEAD,
            4 * HOUR,
            t(
                "Decidir: fraude confirmado o activar el protocolo de secuestro",
                "Decide: fraud confirmed, or open the kidnapping playbook",
            ),
            t(
                "Si no se puede descartar, trate el caso como secuestro.",
                "If it cannot be ruled out, treat the case as a kidnapping.",
            ),
        ),
    ],
}

DETENTION = {
    "kind": CrisisKind.DETENTION,
    "media_blackout": False,
    "title": t("Detención arbitraria", "Unlawful detention"),
    "summary": t(
        "Estrategia 6: asistencia legal inmediata y movilización de la red de respuesta.",
        "Strategy 6: immediate legal support and mobilisation of the response network.",
    ),
    "panels": [MINISTRY_CAN, MINISTRY_CANNOT],
    "tasks": [
        task(
            CrisisRole.LEAD,
            15 * MIN,
            t(
                "Confirmar la detención: dónde, quién, con qué motivo",
                "Confirm the detention: where, by whom, on what grounds",
            ),
            t("Anote fuentes y horas.", "Note sources and times."),
            [Dir.CO_WORKER],
        ),
        task(
            CrisisRole.LEGAL,
            1 * HOUR,
            t("Enviar un abogado de confianza", "Send a trusted lawyer"),
            t(
                "El abogado verifica el trato y los plazos legales de la detención.",
                "The lawyer checks the treatment and the legal time limits of the detention.",
            ),
            [Dir.LAWYER],
        ),
        task(
            CrisisRole.COMMUNICATOR,
            1 * HOUR,
            t(
                "Alertar a la Defensoría y al mecanismo de protección",
                "Alert the ombudsman office and the protection mechanism",
            ),
            t(
                "Estrategia 6, línea 2: redes de respuesta rápida.",
                "Strategy 6, line 2: rapid response networks.",
            ),
            [Dir.OMBUDSMAN, Dir.PROTECTION_MECHANISM, Dir.DEFENDER_NETWORK],
        ),
        task(
            CrisisRole.FAMILY_LIAISON,
            2 * HOUR,
            t("Informar a la familia", "Inform the family"),
            t("Un solo punto de contacto para la familia.", "One point of contact for the family."),
        ),
        task(
            CrisisRole.LEAD,
            4 * HOUR,
            t(
                "Personal extranjero: informar a la embajada o consulado",
                "Foreign staff: inform the embassy or consulate",
            ),
            t(
                "El Ministerio puede dialogar con las autoridades y remitir a abogados.",
                "The ministry can engage with the authorities and refer to lawyers.",
            ),
            [Dir.EMBASSY, Dir.CONSULATE, Dir.EMERGENCY_CENTRE],
        ),
        task(
            CrisisRole.MEDIA,
            1 * DAY,
            t("Decidir sobre incidencia y medios", "Decide on advocacy and media"),
            t(
                "Cobertura responsable que visibilice sin aumentar el riesgo.",
                "Responsible coverage that raises awareness without increasing risk.",
            ),
        ),
    ],
}

ATTACK = {
    "kind": CrisisKind.ATTACK,
    "media_blackout": False,
    "title": t("Ataque violento o armado", "Violent or armed attack"),
    "summary": t(
        "Estrategia 6: minimizar el daño y movilizar de inmediato las redes de apoyo.",
        "Strategy 6: minimise harm and mobilise support networks at once.",
    ),
    "panels": [],
    "tasks": [
        task(
            CrisisRole.LEAD,
            15 * MIN,
            t(
                "Atención médica para los heridos; poner a salvo a las personas en riesgo",
                "Get the injured to medical care; move people at risk to safety",
            ),
            t("La vida primero.", "Life first."),
            [Dir.HOSPITAL, Dir.CLINIC, Dir.HEALTH_CENTRE, Dir.SAFE_MEETING_POINT],
        ),
        task(
            CrisisRole.LEAD,
            30 * MIN,
            t("Denunciar ante la policía", "Report to the police"),
            t("Pida una copia de la denuncia.", "Ask for a copy of the report."),
            [Dir.POLICE],
        ),
        task(
            CrisisRole.COMMUNICATOR,
            1 * HOUR,
            t("Activar la red de respuesta rápida", "Activate the rapid response network"),
            t("Estrategia 6, línea 2.", "Strategy 6, line 2."),
            [Dir.DEFENDER_NETWORK, Dir.PROTECTION_MECHANISM, Dir.OMBUDSMAN],
        ),
        task(
            CrisisRole.LOGISTICS,
            4 * HOUR,
            t("Evaluar la reubicación", "Evaluate relocation"),
            t(
                "Casa segura o reubicación temporal (Estrategia 6, línea 3).",
                "Safe house or temporary relocation (Strategy 6, line 3).",
            ),
        ),
        task(
            CrisisRole.FAMILY_LIAISON,
            4 * HOUR,
            t(
                "Informar a las familias y ofrecer primeros auxilios psicológicos",
                "Inform families and offer psychological first aid",
            ),
            t("Estrategia 6, línea 4.", "Strategy 6, line 4."),
            [Dir.MENTAL_HEALTH],
        ),
        task(
            CrisisRole.LEGAL,
            1 * DAY,
            t("Documentar el ataque", "Document the attack"),
            t(
                "Registro del Paso 2 y evidencias con cadena de custodia.",
                "The Step 2 record and evidence with chain of custody.",
            ),
            [Dir.LAWYER],
        ),
    ],
}

EVICTION = {
    "kind": CrisisKind.EVICTION,
    "media_blackout": False,
    "title": t("Desalojo forzoso", "Forced eviction"),
    "summary": t(
        "Estrategia 6, línea 1: protocolo de escenario para desalojos forzosos.",
        "Strategy 6, line 1: the scenario protocol for forced evictions.",
    ),
    "panels": [],
    "tasks": [
        task(
            CrisisRole.LEAD,
            15 * MIN,
            t(
                "Las personas primero: reunirse en el punto de encuentro seguro",
                "People first: gather at the safe meeting point",
            ),
            t(
                "Cuente a las personas; nadie se queda atrás.",
                "Count people; nobody is left behind.",
            ),
            [Dir.SAFE_MEETING_POINT],
        ),
        task(
            CrisisRole.LEGAL,
            1 * HOUR,
            t(
                "Pedir la orden de desalojo y verificar su legalidad",
                "Ask for the eviction order and check its legality",
            ),
            t("Fotografíe la orden si la muestran.", "Photograph the order if one is shown."),
            [Dir.LAWYER],
        ),
        task(
            CrisisRole.COMMUNICATOR,
            1 * HOUR,
            t(
                "Alertar a la Defensoría y a la red de defensores",
                "Alert the ombudsman office and the defender network",
            ),
            t("Estrategia 6, línea 2.", "Strategy 6, line 2."),
            [Dir.OMBUDSMAN, Dir.DEFENDER_NETWORK, Dir.PROTECTION_MECHANISM],
        ),
        task(
            CrisisRole.LOGISTICS,
            4 * HOUR,
            t(
                "Refugio, agua y alimentos para las familias desplazadas",
                "Shelter, water and food for displaced families",
            ),
            t("Con el fondo de emergencia.", "From the emergency fund."),
        ),
        task(
            CrisisRole.MEDIA,
            1 * DAY,
            t("Documentar y decidir sobre los medios", "Document and decide on the media"),
            t(
                "Cobertura responsable que visibilice sin aumentar el riesgo.",
                "Responsible coverage that raises awareness without increasing risk.",
            ),
        ),
    ],
}

DEATH_ABROAD = {
    "kind": CrisisKind.DEATH_ABROAD,
    "media_blackout": False,
    "title": t("Fallecimiento en el extranjero y repatriación", "Death abroad and repatriation"),
    "summary": t(
        "Repatriación digna y oportuna: aviso inmediato a los familiares, coordinación con "
        "las autoridades locales y activación del seguro. Empiece siempre por la embajada o "
        "el consulado.",
        "Dignified and timely repatriation: immediate notification of next of kin, "
        "coordination with local authorities and activation of the insurance. Always begin "
        "with the embassy or consulate.",
    ),
    "panels": [],
    "tasks": [
        task(
            CrisisRole.LEAD,
            15 * MIN,
            t("Contactar a la embajada o consulado", "Contact the embassy or consulate"),
            t(
                "Son el punto de coordinación más rápido; orientan sobre los trámites y "
                "documentos.",
                "They are the fastest point of coordination and guide on legal procedures "
                "and documents.",
            ),
            [Dir.EMBASSY, Dir.CONSULATE, Dir.EMERGENCY_CENTRE],
        ),
        task(
            CrisisRole.LEAD,
            30 * MIN,
            t("Contactar a la policía o al hospital local", "Contact the local police or hospital"),
            t("Anote los nombres y números de caso.", "Note names and case numbers."),
            [Dir.POLICE, Dir.HOSPITAL],
        ),
        task(
            CrisisRole.FAMILY_LIAISON,
            1 * HOUR,
            t("Notificar a los familiares", "Notify the next of kin"),
            t(
                "En persona o por teléfono, nunca por mensaje; un solo punto de contacto.",
                "In person or by phone, never by message; one point of contact.",
            ),
        ),
        task(
            CrisisRole.LOGISTICS,
            1 * HOUR,
            t(
                "Comprobar de inmediato la cobertura de repatriación del seguro",
                "Check the insurance's repatriation cover at once",
            ),
            t(
                "Algunas pólizas cubren la repatriación.",
                "Some insurance policies cover repatriation.",
            ),
        ),
        task(
            CrisisRole.LEGAL,
            1 * DAY,
            t("Obtener los documentos oficiales", "Secure the official documents"),
            t(
                "La embajada orienta sobre cuáles hacen falta.",
                "The embassy advises which are required.",
            ),
            [Dir.EMBASSY, Dir.CONSULATE],
            [
                t("Certificado de defunción local", "Local death certificate"),
                t(
                    "Certificado consular de defunción (si se requiere)",
                    "Consular death certificate (where required)",
                ),
                t(
                    "Certificado médico de la causa de muerte",
                    "Medical certificate of cause of death",
                ),
                t(
                    "Certificado de embalsamamiento (requerido para el traslado)",
                    "Embalming certificate (required for transport)",
                ),
                t(
                    "Permiso de exportación de los restos (autoridades locales)",
                    "Permit for export of remains (local authorities)",
                ),
                t(
                    "Pasaporte de la persona fallecida (para anular)",
                    "Passport of the deceased (to be cancelled)",
                ),
            ],
        ),
        task(
            CrisisRole.LOGISTICS,
            1 * DAY,
            t("Coordinar con las funerarias", "Coordinate with the funeral homes"),
            t(
                "Local: preparación, embalsamamiento, sellado, trámites de exportación. En el "
                "país de origen: recepción, registro local, arreglos con la familia.",
                "Local: preparation, embalming, sealing, export paperwork. Home country: "
                "reception, local registration, family arrangements.",
            ),
            [],
            [
                t("Funeraria local contratada", "Local funeral home engaged"),
                t(
                    "Funeraria del país de origen contratada",
                    "Home-country funeral home engaged",
                ),
            ],
        ),
        task(
            CrisisRole.LOGISTICS,
            2 * DAY,
            t("Elegir el traslado", "Choose the transport"),
            t(
                "Carga aérea (lo habitual), traslado acompañado (algunas aerolíneas), o "
                "cremación en el extranjero con repatriación de las cenizas (más simple y "
                "económico).",
                "Air cargo (standard), accompanied transport (some airlines), or cremation "
                "abroad with the ashes repatriated (simpler, lower cost).",
            ),
            [],
            [
                t("Carga aérea", "Air transport as cargo"),
                t("Traslado acompañado", "Accompanied transport"),
                t(
                    "Cremación en el extranjero, cenizas repatriadas",
                    "Cremation abroad, ashes repatriated",
                ),
            ],
        ),
        task(
            CrisisRole.FAMILY_LIAISON,
            3 * DAY,
            t("A la llegada al país de origen", "On arrival in the home country"),
            t(
                "La funeraria receptora recoge los restos; registro local con los "
                "certificados consular y local.",
                "The receiving funeral home collects the remains; local registration with "
                "the consular and local certificates.",
            ),
            [],
            [
                t("Restos recogidos por la funeraria", "Remains collected by the funeral home"),
                t("Registro local hecho", "Local registration done"),
            ],
        ),
    ],
}

DEFAULTS: list[dict[str, Any]] = [KIDNAPPING, FRAUD, DETENTION, ATTACK, EVICTION, DEATH_ABROAD]
BY_KIND: dict[str, dict[str, Any]] = {str(p["kind"]): p for p in DEFAULTS}
