"""Collect every user-facing message id of the code, and keep the catalogs in step.

Message ids are the English templates of domain errors (``ValidationError("code",
"template", …)`` and kin), ``Msg("…")`` parameters, the labels of ``presentation`` and the
``_("…")`` calls of the page templates.
``cityloop i18n`` rewrites ``locale/messages.pot`` and adds new ids to each ``.po`` (keeping
existing translations); a test fails while any id lacks a zh_CN translation.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from cityloop.domain import errors
from cityloop.entrypoints.presentation import all_message_ids


def _error_classes() -> set[str]:
    names = set()
    pending: list[type] = [errors.DomainError]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return names


ERROR_CLASSES = _error_classes()


def package_root() -> Path:
    return Path(str(resources.files("cityloop")))


def _strings(node: ast.expr) -> list[str]:
    """String constants of a message argument (both branches of ``a if c else b``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _ids_in(tree: ast.AST) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else (func.attr if isinstance(func, ast.Attribute) else "")
        )
        if name in ERROR_CLASSES or name == "__init__":
            if len(node.args) >= 2:
                for text in _strings(node.args[1]):
                    yield text, node.lineno
        elif name in ("Msg", "t") and node.args:  # t: Page.t, a page's translation
            for text in _strings(node.args[0]):
                yield text, node.lineno


_TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?:"([^"\\]*)"|'([^'\\]*)')""")


def template_message_ids(root: Path) -> Iterator[tuple[str, str]]:
    """``_("…")`` in the Jinja templates: (message id, ``path:line``)."""
    for path in sorted((root / "entrypoints" / "web" / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in _TEMPLATE_CALL.finditer(line):
                yield match.group(1) or match.group(2), f"{path.relative_to(root)}:{number}"


def source_message_ids() -> dict[str, list[str]]:
    """Message id → where it is used (``path:line``)."""
    root = package_root()
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for text, line in _ids_in(tree):
            found.setdefault(text, []).append(f"{path.relative_to(root)}:{line}")
    for text, place in template_message_ids(root):
        found.setdefault(text, []).append(place)
    for text in all_message_ids():
        found.setdefault(text, []).append("entrypoints/presentation.py")
    return found


def update_catalogs(locale_dir: Path | None = None) -> dict[str, int]:
    """Rewrite the template and merge new ids into every locale; returns missing counts."""
    locale_dir = locale_dir or package_root() / "locale"
    ids = source_message_ids()
    template = Catalog(project="cityloop", charset="utf-8")
    for text, places in sorted(ids.items()):
        template.add(text, locations=[(p.rsplit(":", 1)[0], 0) for p in places[:3]])
    with (locale_dir / "messages.pot").open("wb") as handle:
        write_po(handle, template, omit_header=True, sort_output=True, no_location=True)
    missing: dict[str, int] = {}
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/messages.po")):
        locale = po_path.parts[-3]
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        catalog.update(template, no_fuzzy_matching=True)
        with po_path.open("wb") as handle:
            write_po(
                handle,
                catalog,
                omit_header=False,
                sort_output=True,
                no_location=True,
                ignore_obsolete=True,
            )
        missing[locale] = sum(1 for m in catalog if m.id and not m.string)
    return missing
