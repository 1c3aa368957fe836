"""``{% staff_menu as menu %}``: the console menu for the signed-in staff member (vern/accounts/menu.py)."""

from __future__ import annotations

from typing import Any

from django import template

from vern.accounts.menu import current_group, menu_for

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_menu(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    groups = menu_for(request.user.capabilities, getattr(request, "resolver_match", None))
    return {"groups": groups, "tabs": current_group(groups)}
