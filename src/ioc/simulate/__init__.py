"""The device simulator: a Hòa Bình city fleet of streetlights, cameras and sensors, streaming."""
