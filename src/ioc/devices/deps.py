"""Dependencies the devices routes share: the app's broker and who may do what."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ioc.context.api import runtime
from ioc.context.service import Broker
from ioc.core.auth import Principal
from ioc.core.deps import require


async def get_broker(request: Request) -> Broker:
    """The app's NGSI-LD broker (the same one /ngsi-ld/v1 writes through)."""
    return runtime(request.app).broker


BrokerDep = Annotated[Broker, Depends(get_broker)]
# Staff who watch devices; machines may read what they feed.
Reader = Annotated[
    Principal,
    require("operator", "leader", "agency_staff", "district_admin", "device", "connector"),
]
Staff = Annotated[Principal, require("operator", "leader", "agency_staff", "district_admin")]
Operator = Annotated[Principal, require("operator", "district_admin")]
Reporter = Annotated[Principal, require("device", "connector", "operator")]
