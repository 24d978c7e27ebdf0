"""Every CRM + PSA pair the hub supports (pshub.settings.SUPPORTED_STACKS, each with NetSuite): what its cycle lands,
and where each of its syncs writes. The pairs' cycles run end to end in the operations tests (Salesforce + Kantata:
tests/ops/test_cycle.py; HubSpot + Certinia: tests/ops/test_hubspot_cycle.py) and in `make demo CRM=.. PSA=..`; the
marts of HubSpot + Certinia equal those of Salesforce + Kantata in tests/dbt/test_invariance.py (the CRM and PSA role
models read each system on its own, so a pair's marts are those of its CRM and its PSA); the one model that reads the
CRM and the PSA together (outbound.certinia_projects: the CRM lookups only in a Salesforce org) has a dbt unit test
for both CRMs. What is left to say per pair without another dbt build is said here: the systems an ingest lands, and
that every sync has a destination in the pair's own systems, none silently left out."""
from __future__ import annotations

import pytest

from pshub.settings import SUPPORTED_STACKS, Settings
from reverse_etl.syncs import SYNCS, for_systems

# the system each PSA's and CRM's records are written to (Certinia lives in the Salesforce org)
WRITES_TO = {"salesforce": "salesforce", "hubspot": "hubspot", "kantata": "kantata", "certinia": "salesforce"}
ERPS = {"netsuite", "dynamics"}


def test_the_four_pairs_are_supported_and_each_has_its_demo():
    assert set(SUPPORTED_STACKS) == {(crm, psa) for crm in ("salesforce", "hubspot") for psa in ("kantata", "certinia")}
    for (crm, psa), demo in SUPPORTED_STACKS.items():
        assert demo == "make demo" + (f" CRM={crm}" if crm != "salesforce" else "") + \
            (f" PSA={psa}" if psa != "kantata" else "")


@pytest.mark.parametrize("crm,psa", sorted(SUPPORTED_STACKS))
def test_a_pair_lands_its_own_crm_and_psa_and_every_sync_writes_to_one_of_its_systems(crm, psa):
    settings = Settings(crm=crm, psa=psa, dynamics_enabled=True)
    assert settings.default_systems == [crm, psa, "netsuite", "dynamics"]
    taken = {name: for_systems(sync, crm, psa) for name, sync in SYNCS.items()}
    assert [n for n, s in taken.items() if s is None] == []  # none skipped: every sync's rows go somewhere
    allowed = ERPS | {WRITES_TO[crm], WRITES_TO[psa]}
    assert {s.destination for s in taken.values()} == allowed, (crm, psa)
    for name, sync in taken.items():
        role = "psa" if SYNCS[name].destination == "kantata" else "crm" if SYNCS[name].destination == "salesforce" \
            else "erp"
        if role == "psa":
            assert sync.destination == WRITES_TO[psa], (name, sync.destination)
            assert sync.object.startswith("pse__") == (psa == "certinia"), (name, sync.object)
        elif role == "crm":
            assert sync.destination == WRITES_TO[crm], (name, sync.destination)
        else:
            assert sync is SYNCS[name]  # the ERP syncs are the same whatever the CRM and the PSA
