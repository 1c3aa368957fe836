"""What a staff page does when a form or button is posted: form → service → message → redirect.

``staff_step`` calls the service. When it succeeds, a message says what was done and
the browser goes on with a 303, so reloading the next page posts nothing again. When
the service refuses (it raises its app's refusal, such as ``RequestRefused``), the
staff member is told why in their language:

- on a form (``PlacesRefusals``), beside the field the refusal is about, or above the
  page; the view then shows the form again with status 400, as typed, just as it does
  when the form itself has errors (the service is then not called);
- after a button with no form to show again, in a message on the page it goes on to.

The view keeps what is its own: reading the form, the access check, the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, overload

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect

T = TypeVar("T")


class PlacesRefusals(forms.Form):
    """A form that shows a service's refusal where it belongs.

    ``FIELD_OF`` maps a refusal's code to the field it is about. A refusal about no field
    is shown above the form's fields when ``OTHER_REFUSALS_ON_FORM`` is set, and otherwise
    in a message above the page.
    """

    FIELD_OF: ClassVar[dict[str, str]] = {}
    OTHER_REFUSALS_ON_FORM: ClassVar[bool] = False

    def places(self, code: str) -> bool:
        return self.OTHER_REFUSALS_ON_FORM or code in self.FIELD_OF

    def refused(self, code: str, text: str) -> None:
        self.add_error(self.FIELD_OF.get(code), text)


@overload
def staff_step(
    request: HttpRequest,
    service: Callable[[], T],
    *,
    done: str | Callable[[T], str],
    then: str,
    refused: type[Exception] | tuple[type[Exception], ...] = (),
    explain: Callable[[Any], str] = str,
    informative: tuple[type[Exception], ...] = (),
    redirect_status: int = 303,
    form: None = None,
) -> HttpResponseRedirect: ...


@overload
def staff_step(
    request: HttpRequest,
    service: Callable[[], T],
    *,
    done: str | Callable[[T], str],
    then: str | Callable[[T], str],
    refused: type[Exception] | tuple[type[Exception], ...] = (),
    explain: Callable[[Any], str] = str,
    informative: tuple[type[Exception], ...] = (),
    redirect_status: int = 303,
    form: PlacesRefusals,
) -> HttpResponseRedirect | None: ...


def staff_step(
    request: HttpRequest,
    service: Callable[[], T],
    *,
    done: str | Callable[[T], str],
    then: str | Callable[[T], str],
    refused: type[Exception] | tuple[type[Exception], ...] = (),
    explain: Callable[[Any], str] = str,
    informative: tuple[type[Exception], ...] = (),
    redirect_status: int = 303,
    form: PlacesRefusals | None = None,
) -> HttpResponseRedirect | None:
    """Call ``service`` for a POST; on success say ``done`` and redirect to ``then`` (with a form,
    each may be worked out from what the service returned).

    A ``form`` is checked first: while it has errors, the service is not called and None is
    returned, as after a refusal. An exception of ``refused`` is the service's refusal, told in
    the words ``explain`` gives it (from its ``code``, where it has one). With a ``form``, the
    refusal is placed on it and None is returned: show the form again, with status 400. Without
    one, the browser goes on to ``then`` all the same, with the refusal as an error message, or
    as information when it is one of ``informative`` (nothing is wrong: nothing needed doing).
    The redirect is a 303 unless a page has long answered with another (``redirect_status``).
    """
    if form is not None and not form.is_valid():
        return None
    try:
        result = service()
    except refused as exc:
        text = explain(exc)
        code = str(getattr(exc, "code", ""))
        if form is not None and form.places(code):
            form.refused(code, text)
        elif isinstance(exc, informative):
            messages.info(request, text)
        else:
            messages.error(request, text)
        if form is not None:
            return None
        if callable(then):  # the overloads let only a form's step go where its result says
            raise TypeError("a step without a form goes on to a fixed address") from exc
        return HttpResponseRedirect(then, status=redirect_status)
    messages.success(request, done(result) if callable(done) else done)
    return HttpResponseRedirect(then(result) if callable(then) else then, status=redirect_status)
