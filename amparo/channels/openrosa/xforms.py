"""The blank forms served to the phones: the XLSForms in data/, converted to XForms by
pyxform the first time a process needs them and kept in memory after that."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from amparo.channels.openrosa import xlsforms


@dataclass(frozen=True)
class XForm:
    form_id: str
    version: str
    xml: bytes

    @property
    def md5(self) -> str:
        return hashlib.md5(self.xml, usedforsecurity=False).hexdigest()

    def title(self, language: str) -> str:
        titles = xlsforms.TITLES[self.form_id]
        return titles.get(language, titles["es"])


FORM_IDS = tuple(xlsforms.FORMS)


@functools.cache
def xform(form_id: str) -> XForm:
    """The XForm of a known form (KeyError for any other). Conversion takes a moment and
    reads only files in the package, so the first request pays it once per process."""
    from pyxform.xls2xform import convert

    if form_id not in xlsforms.FORMS:
        raise KeyError(form_id)
    result = convert(xlsform=xlsforms.path_of(form_id), file_type=".xlsx")
    return XForm(form_id, xlsforms.VERSION, result.xform.encode("utf-8"))
