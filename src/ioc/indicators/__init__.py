"""Indicators: a catalogue with targets, computed and agency-reported values, reports, pushes."""
