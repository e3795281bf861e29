"""Pages of the list routes (management-api.md §1.7): `page` and `limit` are parameters of the route's `data`,
the answer carries `Total`, `Page` and `Per-Page`."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination

from peatio_mgmt.management_api.fields import INT64
from peatio_mgmt.management_api.response import Response


class PagePagination(BasePagination):
    """`paginate_queryset` reads `view.params["page"]` / `["limit"]` (validated); COUNT runs only when needed, as
    `count()` when the view has a cheaper exact count of the same set (the journal checkpoint), else on the queryset."""

    def paginate_queryset(self, queryset: QuerySet, request, view=None, count: Callable[[], int] | None = None) -> list:
        self.page, self.limit = view.params["page"], view.params["limit"]
        offset = (self.page - 1) * self.limit
        if offset + self.limit > INT64[1]:
            # Beyond any bigint OFFSET: no row can be there, and PostgreSQL would refuse the number.
            rows = []
        else:
            rows = list(queryset[offset : offset + self.limit])
        # A page that is neither empty nor full tells the total by itself.
        if 0 < len(rows) < self.limit or (self.page == 1 and not rows):
            self.total = offset + len(rows)
        else:
            self.total = count() if count is not None else queryset.order_by().count()
        return rows

    def get_paginated_response(self, data) -> Response:
        headers = {"Total": str(self.total), "Page": str(self.page), "Per-Page": str(self.limit)}
        return Response(data, status=201, headers=headers)
