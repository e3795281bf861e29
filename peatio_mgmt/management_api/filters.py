"""The base of the list routes' FilterSets (django-filter), fed with the route's validated parameters.

django-filter prepares, on every FilterSet instance, a deep copy of each declared filter (about 25 `deepcopy` calls
per filter: its settings, its method binding, its model) and a new form class — a form field and a verbose label
per filter — before its form cleans the values: about 0.4 ms of CPU per list request, more than the Python side
of the page's query. Here a filter's per-instance copy is shallow (its settings are never changed per request;
a `method` is bound to the copy, as django-filter does) and the form class is built once per FilterSet class
(it depends only on the declared filters). The rest — the form and its cleaning, `qs`, `filter_queryset`, each
filter's `filter` — is django-filter's.
"""

from __future__ import annotations

import copy

import django_filters


class ValueFilter(django_filters.Filter):
    """django-filter's Filter (a plain form field: the values come typed from the route's parameters)."""

    def __deepcopy__(self, memo) -> ValueFilter:
        clone = copy.copy(self)
        clone.extra = dict(self.extra)
        if self.method is not None:
            clone.method = self.method  # django-filter's setter: a FilterMethod bound to the copy
        return clone


class ParamsFilterSet(django_filters.FilterSet):
    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_params_form_class")  # this class's own, not a base class's
        if form_class is None:
            form_class = super().get_form_class()
            cls._params_form_class = form_class
        return form_class
