"""API clients built from settings: the real systems when PSHUB_<SYSTEM>_URL is set, else the sandbox.

Each system's connector is imported when its client is made, not with this module: the Salesforce and NetSuite
connectors import PyJWT and cryptography, which a Kantata-only run does not need (see flows.landing.parser_for
for the figure)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from connectors import catalog
from pshub.settings import Settings, get_settings

if TYPE_CHECKING:
    from connectors.http import ApiClient


def client_for(system: str, settings: Settings | None = None) -> ApiClient:
    settings = settings or get_settings()
    cfg = settings.system(system)
    timeout = settings.http_timeout_seconds
    if system in ("salesforce", "certinia"):  # Certinia PSA's objects are in the Salesforce org
        from connectors.salesforce import SalesforceClient
        return SalesforceClient(cfg.base_url, cfg.credentials, api_version=settings.salesforce_api_version,
                                timeout=timeout)
    if system == "netsuite":
        from connectors.netsuite import NetSuiteClient
        return NetSuiteClient(cfg.base_url, cfg.credentials, concurrency=settings.netsuite_concurrency,
                              timeout=timeout)
    if system == "kantata":
        from connectors.kantata import KantataClient
        return KantataClient(cfg.base_url, cfg.credentials, timeout=timeout)
    if system == "dynamics":
        from connectors.dynamics import DynamicsClient
        return DynamicsClient(cfg.base_url, cfg.credentials, page_size=settings.dynamics_page_size, timeout=timeout,
                              keys=catalog.DYNAMICS_KEYS, integer_keys=catalog.DYNAMICS_INTEGER_KEYS)
    if system == "hubspot":
        from connectors.hubspot import HubSpotClient
        return HubSpotClient(cfg.base_url, cfg.credentials, timeout=timeout)
    raise KeyError(f"no client for {system!r}")
