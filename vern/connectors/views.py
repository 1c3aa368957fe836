"""The page a processor answers a task on: reached by the single-use link in the task's mail."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from vern.connectors import services
from vern.connectors.forms import TaskAnswerForm


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def task(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = services.task_by_token(token)
    except services.TaskRefused as refused:
        return render(request, "connectors/task.html", {"refused": refused.code}, status=404)
    form = TaskAnswerForm(request.POST or None, kind=found.kind)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.task_confirm(token=token, outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"])
            except services.TaskRefused as refused:
                return render(request, "connectors/task.html", {"refused": refused.code}, status=404)
            return render(request, "connectors/task.html", {"answered": True})
        return render(request, "connectors/task.html", {"task": found, "form": form}, status=400)
    return render(request, "connectors/task.html", {"task": found, "form": form})
