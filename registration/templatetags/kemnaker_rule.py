from django import template

from registration.kemnaker import offline_approval_required

register = template.Library()


@register.simple_tag
def kemnaker_approval_required() -> bool:
    """The rule in force (the programme setting), for the Disnaker pages' header."""
    return offline_approval_required()
