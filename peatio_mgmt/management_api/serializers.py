"""Input and output serializers of the management API.

`Params`: the parameters of one route (the `data` claim), its fields checked in declaration order — presence, then
type, then rule, first failure per parameter — then its group rules; every message is collected and
`ParameterError` carries them all in that order (422 {"error": "<messages joined by ', '>"}, management-api.md
§1.5). A `Params` declared as a field is a nested object (`name[member]`), with `many=True` a non-empty array of
them (`name[i][member]`). DRF's own error dicts are not used: they cannot say "debit, credit are mutually
exclusive" after a failed field, nor keep the contract's order across nesting levels.

Only the declared fields are read (no deep copy and binding of fields per request): parsing one route's
parameters costs a few microseconds.

`Entity`: an output serializer whose declared fields describe the entity (§3) in the OpenAPI document and whose
`render` writes it, one function per entity: on a list of 1,000 rows DRF's field-by-field representation costs
several times the query (bench figures in the report of the DRF move).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, cast

from django.db.models.manager import BaseManager
from rest_framework import serializers
from rest_framework.fields import empty

from peatio_mgmt.management_api.fields import Invalid


class ParameterError(Exception):
    """422 {"error": "<messages joined by ', '>"}."""

    def __init__(self, messages: Sequence[str]):
        super().__init__(", ".join(messages))
        self.messages = list(messages)


class ExactlyOneOf:
    """Group rule: exactly one of the named parameters is present."""

    def __init__(self, *names: str):
        self.names = names

    def check(self, present: set[str]) -> str | None:
        given = [n for n in self.names if n in present]
        if len(given) > 1:
            return f"{', '.join(self.names)} are mutually exclusive"
        if not given:
            return f"{', '.join(self.names)} are missing, exactly one parameter must be provided"
        return None


class AtLeastOneOf:
    """Group rule: at least one of the named parameters is present (Grape's at_least_one_of)."""

    def __init__(self, *names: str):
        self.names = names

    def check(self, present: set[str]) -> str | None:
        if not any(n in present for n in self.names):
            return f"{', '.join(self.names)} are missing, at least one parameter must be provided"
        return None


class ParamsList(serializers.ListSerializer):
    """`SomeParams(many=True)`: a non-empty JSON array of objects."""

    child: Params

    def parse(self, raw: Any, name: str, values: dict, errors: list[str]) -> list | None:
        if raw is None:
            if self.required:
                errors.append(f"{name} is missing")
            return None
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            errors.append(f"{name} is invalid")
            return None
        if not raw:
            errors.append(f"{name} is empty")
            return None
        return [self.child.parse_members(item, f"{name}[{i}]", errors) for i, item in enumerate(raw)]


class Parses(Protocol):
    """What a declared field of `Params` is: a `Param`, or a nested `Params` / `ParamsList`."""

    def parse(self, raw: Any, name: str, values: dict, errors: list[str]) -> Any: ...


class Params(serializers.Serializer):
    """The ordered parameters of one route and its group rules (`groups`)."""

    groups: Sequence[ExactlyOneOf | AtLeastOneOf] = ()

    class Meta:
        list_serializer_class = ParamsList

    @classmethod
    def validate_data(cls, data: Any) -> dict:
        """Typed values by name (None where absent without default); raises ParameterError.

        `run_validation` of one instance per class: it keeps no state on the serializer (it reads the declared
        fields, shared by every instance anyway), so no serializer is built and bound per request. `is_valid`
        would only store the same values on a fresh instance; its errors are never DRF's here (ParameterError).
        """
        return _shared(cls).run_validation(data)

    def run_validation(self, data=empty) -> dict:
        data = data if isinstance(data, Mapping) else {}
        errors: list[str] = []
        values = self.parse_members(data, "", errors)
        present = {name for name, value in data.items() if value is not None}
        for group in self.groups:
            message = group.check(present)
            if message:
                errors.append(message)
        if errors:
            raise ParameterError(errors)
        return values

    def parse_members(self, raw: Mapping, path: str, errors: list[str]) -> dict:
        values: dict[str, Any] = {}
        for name, field in cast(Mapping[str, Parses], self._declared_fields).items():
            values[name] = field.parse(raw.get(name), f"{path}[{name}]" if path else name, values, errors)
        return values

    def parse(self, raw: Any, name: str, values: dict, errors: list[str]) -> dict | None:
        """As a field: a nested JSON object."""
        if raw is None:
            if self.required:
                errors.append(f"{name} is missing")
            return None
        if not isinstance(raw, dict):
            errors.append(f"{name} is invalid")
            return None
        return self.parse_members(raw, name, errors)


class EntityList(serializers.ListSerializer):
    """`SomeEntity(many=True)`: `data` is the list of representations itself (no ReturnList copy); an entity
    that does not override `to_representation` is rendered row by row by its `render` (one call per row, not
    two: a page holds up to 10,000 rows)."""

    child: Entity

    @property
    def data(self) -> list:  # type: ignore[override]  # the representation itself, not DRF's ReturnList copy
        return self.to_representation(self.instance)

    def to_representation(self, data) -> list:
        child = self.child
        if type(child).to_representation is Entity.to_representation and not isinstance(data, BaseManager):
            return list(map(child.render, data))
        return super().to_representation(data)


class Entity(serializers.Serializer):
    """An output serializer: declared fields for the document, `render(instance)` for the answer.

    `represent(instance)` / `represent_many(rows)`: `to_representation` of one instance per class (it keeps no
    state), so an answer builds no serializer per request; `data` is the representation itself (no ReturnDict
    copy). Both give exactly `Entity(instance).data`.
    """

    class Meta:
        list_serializer_class = EntityList

    @staticmethod
    def render(instance: Any, /) -> dict:  # positional: each entity names its own parameter
        raise NotImplementedError

    def to_representation(self, instance):
        return self.render(instance)

    @property
    def data(self) -> dict:  # type: ignore[override]  # the representation itself, not DRF's ReturnDict copy
        return self.to_representation(self.instance)

    @classmethod
    def represent(cls, instance) -> dict:
        return _shared(cls).to_representation(instance)

    @classmethod
    def represent_many(cls, rows) -> list:
        return _shared(cls, many=True).to_representation(rows)


def _shared(cls: type[serializers.BaseSerializer], many: bool = False) -> serializers.BaseSerializer:
    """The one instance of a stateless serializer class (`many`: its list serializer), built on first use."""
    name = "_shared_many" if many else "_shared_one"
    instance = cls.__dict__.get(name)  # the class's own, not a base class's
    if instance is None:
        instance = cls(many=True) if many else cls()
        setattr(cls, name, instance)
    return instance


__all__ = ["AtLeastOneOf", "Entity", "EntityList", "ExactlyOneOf", "Invalid", "ParameterError", "Params", "ParamsList"]
