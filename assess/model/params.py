"""The base of every stage's parameters: strict pydantic models with a dotted-path update helper."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

from assess.model.errors import AssessError


class Params(BaseModel):
    """Stage parameters: unknown keys refused; :meth:`replace` returns an updated, validated copy."""

    model_config = ConfigDict(extra="forbid")

    def replace(self, **changes: object) -> Self:
        """A copy with ``changes`` applied; keys may be dotted paths into nested parameters.

        Example: ``params.replace(**{"rightsizing.percentile": 90, "packing.cpu_overcommit": 2})``.
        Values are validated; values not named keep whether they were given or defaulted.
        Raises :class:`AssessError` naming the key for an unknown key or an invalid value.
        """
        return self._replaced(changes, "")

    def _replaced(self, changes: dict[str, object], prefix: str) -> Self:
        nested: dict[str, dict[str, object]] = {}
        update: dict[str, object] = {}
        for key, value in changes.items():
            head, _, rest = key.partition(".")
            if head not in type(self).model_fields:
                raise AssessError(f"{type(self).__name__}: no parameter '{prefix}{key}' (it has: "
                                  f"{', '.join(type(self).model_fields)})")
            if rest:
                nested.setdefault(head, {})[rest] = value
            else:
                update[head] = value
        for head, sub in nested.items():
            child = getattr(self, head)
            if not isinstance(child, Params):
                raise AssessError(f"{type(self).__name__}: '{prefix}{head}' has no nested parameters")
            update[head] = child._replaced(sub, f"{prefix}{head}.")
        data = {name: getattr(self, name) for name in self.model_fields_set} | update
        try:
            return type(self).model_validate(data)
        except ValidationError as exc:
            raise AssessError(f"{type(self).__name__}: invalid value under '{prefix or '.'}': {exc}") from exc
