"""Citizen feedback: an Open311 GeoReport v2 server and the reception workflow behind it."""
