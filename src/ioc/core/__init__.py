"""The spine every capability stands on: places, agencies, users, audit, events, errors."""

# Importing the audit module registers its flush listener on every Session: no write goes unaudited.
from ioc.core import audit as audit
