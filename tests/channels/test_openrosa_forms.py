"""The two XLSForms: in the repository as workbooks generated from their Python source,
with the web form's questions and words, and valid for ODK Validate, the JavaRosa engine
ODK Collect runs. Java is required: CI installs default-jre-headless, and a missing Java
fails here rather than skipping."""

from __future__ import annotations

import shutil

import pytest
from django.utils import translation
from pyxform.validators.odk_validate import check_xform

from amparo.channels.openrosa import xforms, xlsforms
from amparo.incidents.classify import ANSWER_KEYS
from amparo.incidents.forms import QUESTIONS, ThreatReportForm
from amparo.monitoring.models import HotspotKind


@pytest.mark.parametrize("form_id", list(xlsforms.FORMS))
def test_the_workbook_in_the_repository_is_what_the_source_makes(form_id, tmp_path):
    made = xlsforms.write(form_id, tmp_path / "made.xlsx")
    assert xlsforms.read(xlsforms.path_of(form_id)) == xlsforms.read(made), (
        "Regenerate: AMPARO_DEBUG=true .venv/bin/python -m amparo.channels.openrosa.xlsforms"
    )


@pytest.mark.parametrize("form_id", list(xlsforms.FORMS))
def test_odk_validate_passes(form_id, tmp_path):
    assert shutil.which("java"), "ODK Validate needs Java: apt-get install default-jre-headless"
    path = tmp_path / f"{form_id}.xml"
    path.write_bytes(xforms.xform(form_id).xml)
    warnings = check_xform(str(path))  # raises ODKValidateError when the form is invalid
    assert not [w for w in warnings if "rror" in w], warnings


def test_the_threat_report_asks_the_web_forms_questions_in_its_words():
    workbook = xlsforms.threat_report()
    asked = {row["name"]: row for row in workbook["survey"]}
    web_fields = set(ThreatReportForm.base_fields) - {"person", "lat", "lon"}
    assert set(ANSWER_KEYS) <= set(asked)
    assert web_fields - {"imminent_harm_signs"} <= set(asked)
    assert "location" in asked  # the web form's latitude and longitude, as a GPS point
    for language in ("es", "en", "pt"):
        with translation.override(language):
            for key in ANSWER_KEYS:
                assert asked[key]["label"][language] == str(QUESTIONS[key])
            assert asked["verbatim"]["label"][language] == str(
                ThreatReportForm.base_fields["verbatim"].label
            )
    assert asked["physical_violence"]["label"]["es"] == "¿Hubo violencia física?"
    assert asked["physical_violence"]["label"]["pt"] == "Houve violência física?"


def test_the_xform_has_three_languages_and_the_form_id_and_version():
    xml = xforms.xform(xlsforms.THREAT_FORM_ID).xml.decode()
    for language in ("Español (es)", "English (en)", "Português (pt)"):
        assert f'lang="{language}"' in xml
    assert 'id="amparo_threat_report"' in xml
    assert f'version="{xlsforms.VERSION}"' in xml


def test_the_hotspot_form_knows_every_hotspot_kind():
    assert set(xlsforms.HOTSPOT_KINDS) == set(HotspotKind.values)
    names = {row["name"] for row in xlsforms.hotspot_observation()["survey"]}
    assert {"kind", "point", "trace", "photo", "notes", "observed_on"} <= names
