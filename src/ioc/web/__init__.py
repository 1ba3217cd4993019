"""The IOC screen: pages, static files and vendored JS (MapLibre GL, ECharts), SSE live feed."""
