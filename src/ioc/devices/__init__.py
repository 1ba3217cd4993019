"""Smart-city devices on the NGSI-LD broker: Smart Data Models, cameras, streetlights."""
