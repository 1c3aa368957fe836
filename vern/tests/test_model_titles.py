"""Every registered model names itself, in Bokmål and English, so that no list of titles is kept elsewhere.

Access packages and the rights console title a model's rows by its ``verbose_name_plural``
in the reader's language; a model added later is titled the same way with no other change.
"""

from __future__ import annotations

from django.apps import apps
from django.utils import translation
from django.utils.functional import Promise


def registered_models() -> list[type]:
    return [model for model in apps.get_models() if model.__module__.startswith("vern.") and hasattr(model, "Privacy")]


def test_every_registered_model_is_named_in_bokmal_and_english():
    models = registered_models()
    assert {"enquiries.Enquiry", "rights.Request", "mail.OutboxMessage"} <= {m._meta.label for m in models}
    for model in models:
        names = (model._meta.verbose_name, model._meta.verbose_name_plural)
        assert all(isinstance(name, Promise) for name in names), model._meta.label  # translated when shown
        with translation.override("en"):
            english = [str(name) for name in names]
        with translation.override("nb"):
            bokmal = [str(name) for name in names]
        assert english[0] != english[1], model._meta.label  # the plural is given, not made by adding an s
        assert bokmal != english, model._meta.label
