"""Helpers shared by the apps' selectors."""

from django.db.models import QuerySet


def filtered(queryset: QuerySet, **filters) -> QuerySet:
    """The queryset narrowed by every filter that is given; None or "" means no filter (management-api.md §1.7)."""
    return queryset.filter(**{name: value for name, value in filters.items() if value is not None and value != ""})
