import json
from amparo.alerts import actions, clock
from amparo.alerts.models import *
from amparo.alerts.sms import encoding, segment_count

def test_probe(world, api_client, client):
    r = client.get("/api/openapi.json")
    print("openapi", r.status_code)
    paths = r.json()["paths"]
    print({p: list(v) for p, v in paths.items() if "alerts" in p})
    c = api_client(world.coordinator)
    r = c.post("/api/v1/alerts", {"organisation": "org-a", "kind": "bogus", "severity": "high"}, content_type="application/json")
    print(r.status_code, r.content)
    r = c.post("/api/v1/alerts", {"organisation": "org-a", "kind": "panic", "severity": "high", "location": {"lat": 95, "lon": 0}}, content_type="application/json")
    print(r.status_code, r.content)
    r = c.post("/api/v1/alerts", {"organisation": "org-a", "kind": "threat", "severity": "high", "message": "x"*2000, "person_id": str(world.defender_person.pk)}, content_type="application/json")
    print(r.status_code, r.content[:300])
    a = Alert.objects.get(pk=r.json()["id"])
    for lang in "es", "en", "pt":
        for p in EscalationPolicy.objects.filter(organisation=world.org_a):
            print(p.name, p.priority, p.kinds, p.severities, [(t.position, t.level, t.targets, t.channels, t.delay_minutes, t.repeat_count, t.repeat_interval_minutes) for t in p.tiers.all()]) if lang=="es" else None
        from amparo.alerts.messages import alert_text
        t, b = alert_text(a, "sms", lang)
        print(lang, repr(b), encoding(b), segment_count(b), len(b))
        t, b = alert_text(a, "email", lang, "http://x/a/tok/")
        print(lang, repr(b[:200]))
