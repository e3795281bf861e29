"""The member routes (management-api-extensions.md §7.3–7.5): POST /members, POST /members/get, PUT /members/update."""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ledger import selectors, services
from ledger.models import MEMBER_GROUP_PATTERN, Member, MemberRole
from ledger.representations import render_member
from peatio_mgmt.management_api.fields import NOT_VALID, Integer, Invalid, String, TimeField
from peatio_mgmt.management_api.response import Response
from peatio_mgmt.management_api.serializers import AtLeastOneOf, Entity, Params
from peatio_mgmt.management_api.views import ManagementViewSet

# The API's rule for `state` (the column and the seed accept more, §8.1).
STATE_TEXT = re.compile(r"[a-z0-9_-]{1,16}\Z")
GROUP_TEXT = re.compile(MEMBER_GROUP_PATTERN)
LEVELS = (0, 2**31 - 1)


class MemberSerializer(Entity):
    """Member entity (§6.2)."""

    uid = serializers.CharField()
    email = serializers.CharField()
    level = serializers.IntegerField(min_value=0)
    role = serializers.ChoiceField(choices=MemberRole.values)
    group = serializers.CharField()
    state = serializers.CharField(help_text="`active` = enabled; any other value = not enabled")
    created_at = TimeField()

    render = staticmethod(render_member)


class MemberState(String):
    def check(self, value):
        if not STATE_TEXT.match(value):
            raise Invalid(NOT_VALID)
        return value

    def describe(self):
        return {**super().describe(), "pattern": STATE_TEXT.pattern.removesuffix(r"\Z")}


class MemberGroup(String):
    """Trimmed and lowercased, then the column's rule."""

    def check(self, value):
        value = value.strip().lower()
        if not GROUP_TEXT.match(value):
            raise Invalid(NOT_VALID)
        return value


def level(**kwargs) -> Integer:
    return Integer(minimum=LEVELS[0], maximum=LEVELS[1], **kwargs)


class MemberNewParams(Params):
    uid = String(required=True)
    email = String(required=True)
    level = level(default=0)
    role = String(default=MemberRole.MEMBER, choices=MemberRole.values)
    state = MemberState(default=Member.ACTIVE)
    group = MemberGroup(default=Member.DEFAULT_GROUP)


class MemberGetParams(Params):
    uid = String(required=True)


class MemberUpdateParams(Params):
    uid = String(required=True)
    email = String()
    level = level()
    state = MemberState()
    group = MemberGroup()

    groups = [AtLeastOneOf("email", "level", "state", "group")]


class MemberViewSet(ManagementViewSet):
    scopes = {"new": "write_members", "get_by_uid": "read_members", "edit": "write_members"}

    @extend_schema(request=MemberNewParams, responses={201: MemberSerializer})
    def new(self, request):
        """Create a member; the same request again answers the stored member."""
        values = self.validated(MemberNewParams)
        return Response(MemberSerializer.represent(services.member_create(**values)), status=201)

    @extend_schema(request=MemberGetParams, responses={201: MemberSerializer})
    def get_by_uid(self, request):
        """One member by uid (ignoring case)."""
        values = self.validated(MemberGetParams)
        return Response(MemberSerializer.represent(selectors.member_get(uid=values["uid"])), status=201)

    @extend_schema(request=MemberUpdateParams, responses={200: MemberSerializer})
    def edit(self, request):
        """Change a member's email, level, state or group."""
        values = self.validated(MemberUpdateParams)
        return Response(MemberSerializer.represent(services.member_update(**values)))
