"""Radix credentials: a Client ID (an identifier) and an API key (a secret, never shown)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pytest_radix.errors import RadixConfigError
from pytest_radix.masking import MASK, MaskedStr, register_secret

__all__ = ["RadixCredentials"]


@dataclass(frozen=True)
class RadixCredentials:
    """A Radix Client ID and API key; the key is masked in ``repr`` and ``str``."""

    client_id: str
    client_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("client_id", "client_secret"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise RadixConfigError(
                    f"RadixCredentials.{name} must be a str, not {type(value).__name__}"
                )
            if not value.strip():
                shown = "" if name == "client_secret" else f" ({value!r})"
                raise RadixConfigError(f"RadixCredentials.{name} is empty{shown}")
        register_secret(self.client_secret)
        object.__setattr__(self, "client_secret", MaskedStr(self.client_secret))

    def __repr__(self) -> str:
        return f"RadixCredentials(client_id={self.client_id!r}, client_secret='{MASK}')"

    __str__ = __repr__
