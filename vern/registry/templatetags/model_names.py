"""Models named in words on staff pages: ``{{ "enquiries.Enquiry"|model_title }}`` gives "Enquiries".

Staff read a model's own ``verbose_name_plural`` (or ``verbose_name``) in their language, never its
app label; a label that names no model (one removed since, or not a model at all) is shown as it is.
"""

from __future__ import annotations

from django import template
from django.apps import apps
from django.db import models
from django.utils.text import capfirst

register = template.Library()


def _model(label: object) -> type[models.Model] | None:
    """The model an ``app.Model`` label names, or that a bare model name (``enquiry``) names in one app only."""
    try:
        return apps.get_model(str(label))
    except (LookupError, ValueError):
        named = [m for m in apps.get_models() if m._meta.model_name == str(label).lower()]
        return named[0] if len(named) == 1 else None


@register.filter
def model_title(label: object) -> str:
    """The model's name for its rows: "Enquiries" for ``enquiries.Enquiry``."""
    model = _model(label)
    return str(capfirst(model._meta.verbose_name_plural)) if model is not None else str(label)


@register.filter
def model_name(label: object) -> str:
    """The model's name for one row: "Rights request" for ``rights.request``."""
    model = _model(label)
    return str(capfirst(model._meta.verbose_name)) if model is not None else str(label)
