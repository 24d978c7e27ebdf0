"""What each source system offers the hub: objects, the fields read, and how changes are found.

A source's shape, not its business meaning: field lists, id / version / deleted fields, cursor style.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceObject:
    system: str
    name: str          # the API's name: Account, time_entries, customer
    table: str         # raw table: account, time_entries, customer
    fields: tuple[str, ...]
    id_field: str
    updated_field: str
    deleted_field: str | None = None


_SF_AUDIT = ("IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp")


def _sf(name: str, *fields: str) -> SourceObject:
    return SourceObject("salesforce", name, name.lower(), ("Id", *fields, *_SF_AUDIT), "Id", "SystemModstamp",
                        "IsDeleted")


SALESFORCE = {
    o.name: o for o in (
        _sf("Account", "Name", "CurrencyIsoCode", "Legal_Entity__c", "BillingCountry", "ERP_Customer_Id__c"),
        _sf("Opportunity", "AccountId", "Name", "StageName", "IsClosed", "IsWon", "CloseDate", "Amount",
            "CurrencyIsoCode", "Billing_Model__c", "Legal_Entity__c", "Service_Line__c", "Start_Date__c",
            "End_Date__c", "ERP_Project_Id__c", "PSA_Project_Id__c", "Sync_Status__c"),
    )
}

SOURCES: dict[str, dict[str, SourceObject]] = {"salesforce": SALESFORCE}


def find(system: str, name: str | None = None) -> list[SourceObject]:
    if system not in SOURCES:
        raise KeyError(f"unknown system {system!r}; known: {', '.join(SOURCES)}")
    objects = SOURCES[system]
    if name is None:
        return list(objects.values())
    matches = [o for o in objects.values() if name.lower() in (o.name.lower(), o.table)]
    if not matches:
        raise KeyError(f"unknown {system} object {name!r}; known: {', '.join(objects)}")
    return matches


def select(systems: list[str] | None = None, objects: list[str] | None = None) -> list[SourceObject]:
    """The objects to ingest: all of the named systems (default all), narrowed to the named objects."""
    for system in systems or []:
        find(system)  # unknown system: a clear error
    chosen = [o for s in (systems or SOURCES) for o in SOURCES[s].values()]
    if objects:
        wanted = {n.lower() for n in objects}
        unknown = wanted - {o.name.lower() for o in chosen} - {o.table for o in chosen}
        if unknown:
            raise KeyError(f"unknown object(s) {', '.join(sorted(unknown))}; known: "
                           + ", ".join(o.name for o in chosen))
        chosen = [o for o in chosen if o.name.lower() in wanted or o.table in wanted]
    return chosen
