"""The spine every capability stands on: places, agencies, users, audit, events, errors."""
