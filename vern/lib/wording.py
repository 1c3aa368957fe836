"""A message kept in English with what fills it in, so that each reader gets it in their own language.

The command line prints the English (``str``); the console shows ``localised()``, in the language
active for the staff member. An app that tells another app something a person will read (a
declaration check on the surface) gives a ``Wording`` rather than finished text, because it
cannot know who will read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext


@dataclass(frozen=True)
class Wording:
    template: str  # English, marked with ``gettext_noop`` so that ``make messages`` finds it
    params: tuple[tuple[str, str], ...] = ()
    translated: tuple[str, ...] = ()  # the params whose values are English texts to translate too

    @classmethod
    def of(cls, template: str, *, translated: tuple[str, ...] = (), **params: str) -> Wording:
        return cls(template, tuple(params.items()), translated)

    def __str__(self) -> str:
        return self.template % dict(self.params) if self.params else self.template.replace("%%", "%")

    def localised(self) -> str:
        """In the active language, where there is a translation; each translated param as well."""
        if not self.params:
            return gettext(self.template).replace("%%", "%")
        values = {key: gettext(value) if key in self.translated else value for key, value in self.params}
        return gettext(self.template) % values
