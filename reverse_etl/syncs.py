"""The syncs: each is an outbound dbt model + destination object + operation + key + field types + batch size.

What to push is decided in the outbound model (SQL); this file only says where it goes and in what shape.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    name: str                 # the destination field, and the outbound model's column
    type: str = "string"      # string | number | date | boolean | ref (a NetSuite reference: {"id": value})
    required: bool = False


@dataclass(frozen=True)
class Sync:
    name: str
    model: str                # schema.table of the outbound model
    destination: str          # netsuite | salesforce | kantata
    object: str               # destination record type
    key: str                  # the model's column that identifies the destination record (its external id)
    fields: tuple[Field, ...]
    operation: str = "upsert"
    batch_size: int = 200
    description: str = ""
    # business context for exceptions: model columns naming the customer, engagement and amount at stake
    context: dict = field(default_factory=dict)

    @property
    def pushed_columns(self) -> list[str]:
        return [f.name for f in self.fields]


SYNCS: dict[str, Sync] = {s.name: s for s in (
    Sync(
        name="erp_customers",
        model="outbound.erp_customers",
        destination="netsuite",
        object="customer",
        key="external_id",
        fields=(Field("companyName", required=True), Field("subsidiary", "ref", required=True),
                Field("currency", "ref", required=True), Field("terms", "ref")),
        batch_size=50,
        description="CRM accounts with a closed-won opportunity become ERP customers (external id = account id).",
        context={"customer": "companyName", "legal_entity": "_legal_entity"},
    ),
)}


def get_sync(name: str) -> Sync:
    try:
        return SYNCS[name]
    except KeyError:
        raise KeyError(f"unknown sync {name!r}; known: {', '.join(SYNCS)}") from None
