"""Public services: the procedure catalogue, citizens' dossiers, their import and measures."""
