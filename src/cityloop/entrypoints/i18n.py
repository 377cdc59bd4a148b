"""Translations: English message ids, zh_CN first (DESIGN.md, rule 6).

The catalogs are gettext ``.po`` files under ``cityloop/locale``, read directly with Babel
(no compile step). English is the message id itself.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from babel.messages.pofile import read_po

DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")


@lru_cache(maxsize=8)
def catalog(locale: str) -> dict[str, str]:
    if locale == "en":
        return {}
    ref = resources.files("cityloop") / "locale" / locale / "LC_MESSAGES" / "messages.po"
    if not ref.is_file():
        return {}
    with ref.open("rb") as handle:
        po = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def gettext(message: str, locale: str) -> str:
    return catalog(normalise(locale)).get(message, message)


def normalise(locale: str | None) -> str:
    if not locale:
        return DEFAULT_LOCALE
    tag = locale.replace("-", "_").strip()
    lowered = tag.lower()
    if lowered.startswith("zh"):
        return "zh_CN"
    if lowered.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def negotiate(accept_language: str | None) -> str:
    """Pick zh_CN or en from an ``Accept-Language`` header (zh_CN when nothing fits)."""
    if not accept_language:
        return DEFAULT_LOCALE
    choices = []
    for index, part in enumerate(accept_language.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        choices.append((-quality, index, tag.strip().lower()))
    for _q, _i, tag in sorted(choices):
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE
