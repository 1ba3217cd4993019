"""Alerts: rules over bus events → de-duplicated alerts an operator acknowledges and resolves."""
