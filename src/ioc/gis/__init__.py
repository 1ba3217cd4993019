"""GIS and land information: layers, parcels (iLIS), planning zones; OGC API – Features."""
