"""The console's declaration editor: the draft's parts as Django forms, and back.

The draft is the declaration as data (``Draft.content``). The editor shows it in five
parts: the policy's texts, and the tables of purposes, cookies, processors and retention
rules. Each part is a form (texts) or a formset (a table, one form per row) with a
Norwegian and an English field for every text, side by side.

The forms check nothing themselves. What the officer typed is put back into the
declaration, and the declaration is checked whole by ``declaration_validate`` — the
same schema and rules as ``vern declaration check``. Each problem names a path in the
declaration (``processors[2].agreement_date``); ``place_problems`` puts it on the field
or row it is about, and what belongs to no field of the form goes above it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vern.declaration.loading import Problem
from vern.declaration.selectors import BASIS_LABELS
from vern.lib.language import page_language

Loc = tuple[int | str, ...]
LANGUAGES = ("nb", "en")


def parse_path(path: str) -> Loc:
    """``processors[2].agreement_date`` → ("processors", 2, "agreement_date"): ``format_path`` undone."""
    loc: list[int | str] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        loc.append(int(index) if index else name)
    return tuple(loc)


def as_source(content: dict[str, Any]) -> str:
    """The declaration as the YAML text that ``declaration_publish`` reads and keeps with the version."""
    return yaml.safe_dump(content, allow_unicode=True, sort_keys=False, width=100)


def is_text(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == set(LANGUAGES)


# ------------------------------------------------------------------ labels

SECTION_LABELS: dict[str, Promise] = {
    "controller": gettext_lazy("Controller"),
    "policy": gettext_lazy("About the policy"),
    "collected": gettext_lazy("What we collect"),
    "data_categories": gettext_lazy("Data categories"),
    "data_subjects": gettext_lazy("Whom the data is about"),
    "purposes": gettext_lazy("Purposes"),
    "cookies": gettext_lazy("Cookies"),
    "processors": gettext_lazy("Processors"),
    "sharing": gettext_lazy("Sharing"),
    "transfers": gettext_lazy("Transfers outside the EEA"),
    "retention": gettext_lazy("Retention"),
    "rights": gettext_lazy("Your rights"),
    "authority": gettext_lazy("Supervisory authority"),
    "security": gettext_lazy("Security"),
    "analytics": gettext_lazy("Statistics"),
    "enquiries": gettext_lazy("Enquiries"),
}
KEY_LABELS: dict[str, Promise] = {
    "address": gettext_lazy("Address"),
    "automated_decisions": gettext_lazy("Automated decisions"),
    "automatic": gettext_lazy("Collected automatically"),
    "automatic_intro": gettext_lazy("Introduction to what is collected automatically"),
    "banner": gettext_lazy("Consent banner"),
    "basis_explanation": gettext_lazy("When each legal basis applies"),
    "categories": gettext_lazy("Cookie categories"),
    "categories_intro": gettext_lazy("Categories of recipients"),
    "changes": gettext_lazy("Changes to the policy"),
    "clock": gettext_lazy("Counted from (event)"),
    "clock_text": gettext_lazy("Counted from (text)"),
    "complaint_text": gettext_lazy("Complaints"),
    "contact_us_first": gettext_lazy("Contact us first"),
    "cookies_text": gettext_lazy("How long cookies are kept"),
    "countries": gettext_lazy("Countries (two-letter codes)"),
    "agreement_date": gettext_lazy("Date of the data processing agreement"),
    "agreement_note": gettext_lazy("About the agreement"),
    "category": gettext_lazy("Category"),
    "data_categories": gettext_lazy("Data categories (ids)"),
    "data_subjects": gettext_lazy("Whom the data is about (ids)"),
    "data_summary": gettext_lazy("What data"),
    "description": gettext_lazy("Description"),
    "domain": gettext_lazy("Domain (only for a parent domain)"),
    "dpo": gettext_lazy("Data protection officer"),
    "duration": gettext_lazy("Lifetime"),
    "exceptions": gettext_lazy("Exceptions"),
    "how_to_request": gettext_lazy("How to make a request"),
    "id": gettext_lazy("Id"),
    "intro": gettext_lazy("Introduction"),
    "laws": gettext_lazy("Laws"),
    "lead": gettext_lazy("Lead paragraph"),
    "legal_bases": gettext_lazy("Legal bases"),
    "legitimate_interest": gettext_lazy("Legitimate interest"),
    "managing_consent": gettext_lazy("Managing consent"),
    "measures": gettext_lazy("Measures"),
    "name": gettext_lazy("Name"),
    "no_sale": gettext_lazy("No sale of data"),
    "notify_significant_changes": gettext_lazy("Notice of significant changes"),
    "party": gettext_lazy("First or third party"),
    "period": gettext_lazy("Period (e.g. 24 months)"),
    "provided": gettext_lazy("Given by you"),
    "provided_intro": gettext_lazy("Introduction to what you give us"),
    "provider": gettext_lazy("Provider"),
    "purpose": gettext_lazy("Purpose"),
    "purposes": gettext_lazy("Purposes (ids)"),
    "recipients": gettext_lazy("Recipients (processor ids)"),
    "related_page": gettext_lazy("Related page"),
    "requirement": gettext_lazy("Is it required?"),
    "rules": gettext_lazy("Rules"),
    "safeguards": gettext_lazy("Safeguards"),
    "scope": gettext_lazy("Scope"),
    "service": gettext_lazy("Service"),
    "set_by": gettext_lazy("Set by"),
    "source": gettext_lazy("Where the data comes from"),
    "standards": gettext_lazy("Standards"),
    "statement": gettext_lazy("Statement"),
    "status": gettext_lazy("Status"),
    "text": gettext_lazy("Text"),
    "title": gettext_lazy("Title"),
    "transfer_evidence": gettext_lazy("Transfer evidence"),
    "transfer_mechanism": gettext_lazy("Transfer mechanism"),
    "until": gettext_lazy("Until (instead of a period)"),
    "withdrawal": gettext_lazy("How consent is withdrawn"),
}


def _item_name(item: Any, index: int) -> str:
    """An item as a reader knows it: its name in the page's language, else its id or name."""
    if isinstance(item, dict):
        name = item.get("name")
        if isinstance(name, dict) and isinstance(name.get(page_language()), str) and name[page_language()]:
            return str(name[page_language()])
        for key in ("id", "name"):
            if isinstance(item.get(key), str):
                return str(item[key])
    return _("item %(number)s") % {"number": index + 1}


def describe(content: dict[str, Any], loc: Loc) -> str:
    """A path in the declaration in words: "Processors › aws › Date of the data processing agreement"."""
    parts: list[str] = []
    node: Any = content
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            parts.append(_item_name(item, part))
            node = item
            continue
        if part in LANGUAGES and len(parts) > 0:
            parts.append(_("English") if part == "en" else _("Norwegian"))
        else:
            label = SECTION_LABELS.get(part) if not parts else KEY_LABELS.get(part)
            parts.append(str(label or KEY_LABELS.get(part) or part))
        node = node.get(part) if isinstance(node, dict) else None
    return " › ".join(parts) or _("The whole declaration")


# ------------------------------------------------------------------ one language changed


@dataclass(frozen=True)
class OneLanguage:
    """A text whose one language changed and the other did not."""

    loc: Loc  # the text's path in the draft
    changed: str  # "nb" or "en": the language that changed


def _key_of(item: Any) -> Any:
    if isinstance(item, dict):
        for key in ("id", "name"):
            if isinstance(item.get(key), str):
                return (key, item[key])
    return None


def one_language_changes(old: Any, new: Any, loc: Loc = ()) -> list[OneLanguage]:
    """Every text in ``new`` whose Norwegian changed and English did not, or the other way round.

    Rows of a table are matched by their id (or name), so a row moved or a row added
    before it is not taken for a change; a text that is new in the draft has no old
    version to compare with.
    """
    found: list[OneLanguage] = []
    if is_text(old) and is_text(new):
        nb, en = old["nb"] != new["nb"], old["en"] != new["en"]
        if nb != en:
            found.append(OneLanguage(loc, "nb" if nb else "en"))
    elif isinstance(old, dict) and isinstance(new, dict):
        for key, value in new.items():
            if key in old:
                found += one_language_changes(old[key], value, (*loc, key))
    elif isinstance(old, list) and isinstance(new, list):
        old_by_key = {_key_of(item): item for item in old if _key_of(item) is not None}
        for index, item in enumerate(new):
            key = _key_of(item)
            if key is not None:
                if key in old_by_key:
                    found += one_language_changes(old_by_key[key], item, (*loc, index))
            elif index < len(old):
                found += one_language_changes(old[index], item, (*loc, index))
    return found


def warning_text(change: OneLanguage) -> str:
    if change.changed == "nb":
        return _("Only the Norwegian text changed; check that the English says the same.")
    return _("Only the English text changed; check that the Norwegian says the same.")


# ------------------------------------------------------------------ columns of a table


@dataclass(frozen=True)
class Column:
    """One field of a table row. ``kind``: text (nb + en), optional_text, line, optional_line,
    ids (a list typed with commas), choice, optional_choice, bases (legal bases), date."""

    key: str
    kind: str
    choices: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None

    @property
    def label(self) -> str:
        return str(KEY_LABELS.get(self.key, self.key))

    @property
    def bilingual(self) -> bool:
        return self.kind in ("text", "optional_text")


def _fixed(*options: tuple[str, Promise | str]) -> Callable[[dict[str, Any]], list[tuple[str, str]]]:
    return lambda content: [(value, str(label)) for value, label in options]


def _cookie_categories(content: dict[str, Any]) -> list[tuple[str, str]]:
    language = page_language()
    return [(c["id"], str(c["name"].get(language) or c["id"])) for c in content["cookies"]["categories"]]


@dataclass(frozen=True)
class Table:
    key: str  # the part's name in URLs
    path: Loc  # where the rows are in the declaration
    title: Promise
    row_name: Promise  # what one row is called, for "Add a …"
    columns: tuple[Column, ...]
    can_add: bool = True

    def rows(self, content: dict[str, Any]) -> list[dict[str, Any]]:
        node: Any = content
        for part in self.path:
            node = node[part]
        return list(node)

    def with_rows(self, content: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
        changed = copy.deepcopy(content)
        node: Any = changed
        for part in self.path[:-1]:
            node = node[part]
        node[self.path[-1]] = rows
        return changed


TABLES: dict[str, Table] = {
    table.key: table
    for table in (
        Table(
            "purposes",
            ("purposes",),
            gettext_lazy("Purposes"),
            gettext_lazy("purpose"),
            (
                Column("id", "line"),
                Column("name", "text"),
                Column("data_summary", "text"),
                Column("legal_bases", "bases"),
                Column("basis_explanation", "optional_text"),
                Column("legitimate_interest", "optional_text"),
                Column("withdrawal", "optional_text"),
                Column("requirement", "text"),
                Column("source", "text"),
                Column("data_categories", "ids"),
                Column("data_subjects", "ids"),
                Column("recipients", "ids"),
            ),
        ),
        Table(
            "cookies",
            ("cookies", "cookies"),
            gettext_lazy("Cookies"),
            gettext_lazy("cookie"),
            (
                Column("name", "line"),
                Column("provider", "line"),
                Column("category", "choice", _cookie_categories),
                Column("duration", "line"),
                Column("purpose", "text"),
                Column(
                    "party",
                    "choice",
                    _fixed(("first", gettext_lazy("first party")), ("third", gettext_lazy("third party"))),
                ),
                Column(
                    "set_by",
                    "choice",
                    _fixed(("vern", gettext_lazy("this site")), ("other", gettext_lazy("another service"))),
                ),
                Column("domain", "optional_line"),
            ),
        ),
        Table(
            "processors",
            ("processors",),
            gettext_lazy("Processors"),
            gettext_lazy("processor"),
            (
                Column("id", "line"),
                Column("name", "line"),
                Column("service", "text"),
                Column("countries", "ids"),
                Column(
                    "status",
                    "choice",
                    _fixed(
                        ("active", gettext_lazy("in use")),
                        ("planned", gettext_lazy("planned")),
                        ("ended", gettext_lazy("ended")),
                    ),
                ),
                Column("agreement_date", "date"),
                Column("agreement_note", "optional_text"),
                Column(
                    "transfer_mechanism",
                    "optional_choice",
                    _fixed(
                        ("adequacy", gettext_lazy("adequacy decision (Art. 45)")),
                        ("dpf", gettext_lazy("EU–US Data Privacy Framework")),
                        ("scc", gettext_lazy("Standard Contractual Clauses (Art. 46)")),
                        ("bcr", gettext_lazy("binding corporate rules (Art. 47)")),
                    ),
                ),
                Column("transfer_evidence", "optional_text"),
            ),
        ),
        Table(
            "retention",
            ("retention", "rules"),
            gettext_lazy("Retention rules"),
            gettext_lazy("retention rule"),
            (
                Column("id", "line"),
                Column("name", "text"),
                Column("period", "optional_line"),
                Column("until", "optional_text"),
                Column("clock", "line"),
                Column("clock_text", "text"),
                Column("purposes", "ids"),
                Column("data_categories", "ids"),
            ),
        ),
    )
}

# The texts part shows every text outside these tables.
TABLE_PATHS = tuple(table.path for table in TABLES.values())


def field_name(column: Column, language: str = "") -> str:
    return f"{column.key}_{language}" if language else column.key


class RowForm(forms.Form):
    """One row of a table. Its fields are made from the table's columns; ``keep`` carries the
    row's parts the editor does not show (a retention rule's exceptions), unchanged."""

    keep = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, table: Table, content: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.table = table
        self.warnings: dict[str, str] = {}
        for column in table.columns:
            if column.bilingual:
                for language in LANGUAGES:
                    self.fields[field_name(column, language)] = forms.CharField(
                        label=f"{column.label} ({language})",
                        required=False,
                        widget=forms.Textarea(attrs={"rows": 2, "lang": language}),
                    )
            elif column.kind == "bases":
                self.fields[column.key] = forms.MultipleChoiceField(
                    label=column.label,
                    required=False,
                    choices=[(basis, labels[page_language()]) for basis, labels in BASIS_LABELS.items()],
                    widget=forms.CheckboxSelectMultiple,
                )
            elif column.kind in ("choice", "optional_choice"):
                options = column.choices(content) if column.choices else []
                if column.kind == "optional_choice":
                    options = [("", _("none")), *options]
                self.fields[column.key] = forms.ChoiceField(label=column.label, required=False, choices=options)
            else:
                widget = forms.DateInput(attrs={"type": "date"}) if column.kind == "date" else forms.TextInput()
                self.fields[column.key] = forms.CharField(label=column.label, required=False, widget=widget)

    @staticmethod
    def initial_of(table: Table, row: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        shown = {column.key for column in table.columns}
        initial["keep"] = json.dumps({k: v for k, v in row.items() if k not in shown}, ensure_ascii=False)
        for column in table.columns:
            value = row.get(column.key)
            if column.bilingual:
                for language in LANGUAGES:
                    initial[field_name(column, language)] = (
                        value[language] if value is not None and is_text(value) else ""
                    )
            elif column.kind == "ids":
                initial[column.key] = ", ".join(value or [])
            elif column.kind == "bases":
                initial[column.key] = list(value or [])
            else:
                initial[column.key] = "" if value is None else str(value)
        return initial

    def row(self) -> dict[str, Any]:
        """The row as declaration data, as typed: the schema and rules judge it."""
        data = self.cleaned_data
        try:
            kept = json.loads(data.get("keep") or "{}")
        except ValueError:
            kept = {}
        row: dict[str, Any] = kept if isinstance(kept, dict) else {}
        for column in self.table.columns:
            if column.bilingual:
                text = {language: (data.get(field_name(column, language)) or "").strip() for language in LANGUAGES}
                row[column.key] = None if column.kind == "optional_text" and not any(text.values()) else text
            elif column.kind == "ids":
                row[column.key] = [part for part in re.split(r"[\s,]+", data.get(column.key) or "") if part]
            elif column.kind == "bases":
                row[column.key] = list(data.get(column.key) or [])
            else:
                value = (data.get(column.key) or "").strip()
                row[column.key] = value or (None if column.kind in ("optional_line", "optional_choice", "date") else "")
        return row

    def pairs(self) -> Iterator[dict[str, Any]]:
        """The row's fields for the template: a text's two languages together, with its warning."""
        for column in self.table.columns:
            if column.bilingual:
                yield {
                    "label": column.label,
                    "nb": self[field_name(column, "nb")],
                    "en": self[field_name(column, "en")],
                    "warning": self.warnings.get(column.key, ""),
                    "optional": column.kind == "optional_text",
                }
            else:
                yield {"label": column.label, "field": self[column.key], "wide": column.kind == "bases"}


class BaseRows(forms.BaseFormSet):  # type: ignore[type-arg]
    def __init__(self, *args: Any, table: Table, content: dict[str, Any], **kwargs: Any) -> None:
        self.table = table
        self.content = content
        self.here: list[str] = []  # problems about the whole table, shown above its rows
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "table": self.table, "content": self.content}

    @property
    def empty_form(self) -> RowForm:
        form: RowForm = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            table=self.table,
            content=self.content,
        )
        return form

    def kept_forms(self) -> list[RowForm]:
        """The rows not marked for removal, in order: row i of the saved table is ``kept_forms()[i]``."""
        if not self.is_bound:
            return list(self.forms)
        return [form for form in self.forms if not getattr(form, "cleaned_data", {}).get("DELETE")]


RowFormSet = forms.formset_factory(RowForm, formset=BaseRows, extra=0, can_delete=True)


def table_formset(table: Table, content: dict[str, Any], data: Any = None, *, add_row: bool = False) -> BaseRows:
    initial = [RowForm.initial_of(table, row) for row in table.rows(content)]
    if data is not None and add_row:
        # "Add a row": the rows as typed, and one more, empty; nothing is saved yet.
        data = data.copy()
        total = int(data.get(f"{table.key}-TOTAL_FORMS", "0") or 0)
        data[f"{table.key}-TOTAL_FORMS"] = str(total + 1)
    formset: BaseRows = RowFormSet(data, prefix=table.key, initial=initial, table=table, content=content)  # type: ignore[call-arg, assignment]
    return formset


def table_rows(formset: BaseRows) -> list[dict[str, Any]]:
    return [form.row() for form in formset.kept_forms()]


# ------------------------------------------------------------------ the texts


def text_paths(content: Any, loc: Loc = ()) -> list[Loc]:
    """Every text of the declaration outside the tables, in the order of the declaration."""
    if loc in TABLE_PATHS:
        return []
    if is_text(content):
        return [loc]
    found: list[Loc] = []
    if isinstance(content, dict):
        for key, value in content.items():
            found += text_paths(value, (*loc, key))
    elif isinstance(content, list):
        for index, item in enumerate(content):
            found += text_paths(item, (*loc, index))
    return found


def _get(content: Any, loc: Loc) -> Any:
    for part in loc:
        content = content[part]
    return content


class TextsForm(forms.Form):
    """Every text of the policy outside the tables: one Norwegian and one English field each."""

    def __init__(self, *args: Any, content: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.content = content
        self.paths = text_paths(content)
        self.warnings: dict[int, str] = {}
        for index, loc in enumerate(self.paths):
            value = _get(content, loc)
            for language in LANGUAGES:
                self.fields[f"t{index}_{language}"] = forms.CharField(
                    label=f"{describe(content, loc)} ({language})",
                    required=False,
                    initial=value[language],
                    widget=forms.Textarea(attrs={"rows": 3 if len(value[language]) > 120 else 2, "lang": language}),
                )

    def with_texts(self) -> dict[str, Any]:
        changed = copy.deepcopy(self.content)
        for index, loc in enumerate(self.paths):
            target = _get(changed, loc)
            for language in LANGUAGES:
                target[language] = (self.cleaned_data.get(f"t{index}_{language}") or "").strip()
        return changed

    def groups(self) -> list[dict[str, Any]]:
        """The texts grouped by section, for the template."""
        grouped: list[dict[str, Any]] = []
        for index, loc in enumerate(self.paths):
            section = str(SECTION_LABELS.get(str(loc[0]), loc[0]))
            if not grouped or grouped[-1]["section"] != section:
                grouped.append({"section": section, "key": loc[0], "texts": []})
            label = describe(self.content, loc).split(" › ", 1)[-1]
            grouped[-1]["texts"].append(
                {
                    "label": label,
                    "nb": self[f"t{index}_nb"],
                    "en": self[f"t{index}_en"],
                    "warning": self.warnings.get(index, ""),
                }
            )
        return grouped


# ------------------------------------------------------------------ problems and warnings on fields


def problem_line(content: dict[str, Any], problem: Problem) -> str:
    """A problem for a reader of the console: where it is in words, and what is wrong (no YAML line:
    a draft in the database has none the officer could look up)."""
    loc = parse_path(problem.path)
    if loc and str(loc[0]) not in SECTION_LABELS and loc[0] != "schema_version":
        return f"{problem.path}: {problem.localised()}"  # not a place in the declaration (the code's registry)
    return f"{describe(content, loc)}: {problem.localised()}"


def field_message(problem: Problem) -> str:
    """A problem's words for a field: the schema's "is required" and "too short" become "Fill this in"."""
    if problem.message in ("is required", "string should have at least 1 character"):
        return _("Fill this in.")
    return problem.localised()


def _within(loc: Loc, prefix: Loc) -> bool:
    return loc[: len(prefix)] == prefix


def place_on_texts(form: TextsForm, problems: list[Problem], warnings: list[OneLanguage]) -> list[Problem]:
    """Put each problem on its text's field; returns those that belong to no field of the form."""
    rest: list[Problem] = []
    for problem in problems:
        loc = parse_path(problem.path)
        index = next((i for i, path in enumerate(form.paths) if _within(loc, path)), None)
        if index is None:
            rest.append(problem)
            continue
        language = loc[len(form.paths[index])] if len(loc) > len(form.paths[index]) else "nb"
        form.add_error(f"t{index}_{language if language in LANGUAGES else 'nb'}", field_message(problem))
    for warning in warnings:
        index = next((i for i, path in enumerate(form.paths) if path == warning.loc), None)
        if index is not None:
            form.warnings[index] = warning_text(warning)
    return rest


def place_on_table(formset: BaseRows, problems: list[Problem], warnings: list[OneLanguage]) -> list[Problem]:
    """Put each problem on its row's field (or on the row); returns those about no row of the table."""
    table = formset.table
    rows = formset.kept_forms()
    depth = len(table.path)
    rest: list[Problem] = []
    columns = {column.key: column for column in table.columns}
    for problem in problems:
        loc = parse_path(problem.path)
        if not _within(loc, table.path):
            rest.append(problem)
            continue
        if len(loc) <= depth or not isinstance(loc[depth], int):
            formset.here.append(problem.localised())  # about the table as a whole: above its rows
            continue
        index = int(loc[depth])
        if index >= len(rows):
            rest.append(problem)
            continue
        form, inner = rows[index], loc[depth + 1 :]
        column = columns.get(str(inner[0])) if inner else None
        if column is None:
            form.add_error(None, field_message(problem))
        elif column.bilingual:
            language = inner[1] if len(inner) > 1 and inner[1] in LANGUAGES else "nb"
            form.add_error(field_name(column, str(language)), field_message(problem))
        else:
            form.add_error(column.key, field_message(problem))
    for warning in warnings:
        loc = warning.loc
        if _within(loc, table.path) and len(loc) == depth + 2 and isinstance(loc[depth], int):
            index = int(loc[depth])
            if index < len(rows):
                rows[index].warnings[str(loc[depth + 1])] = warning_text(warning)
    return rest
