"""The spine every capability stands on: places, agencies, users, audit, events, errors."""

# Importing these registers their flush listeners on every Session: no write goes unaudited,
# and no change to reference data leaves a stale copy in memory behind.
from ioc.core import audit as audit
from ioc.core import refdata as refdata
