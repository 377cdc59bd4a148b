"""File formats of base data: GeoJSON, CSV, XLSX and zipped ESRI Shapefile, both ways."""
