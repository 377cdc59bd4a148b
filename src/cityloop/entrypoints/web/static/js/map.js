// A small offline map: no tiles from the internet, only our own layers (grid, community and
// street outlines as GeoJSON from /api/v1/map/regions), drawn by the vendored Leaflet.
// <div id="map" data-lon data-lat data-grid data-pick="input-lon,input-lat"></div>

const L = window.L;

function bboxOf(map) {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
}

async function outlines(map, layer, level, highlight) {
  const zoom = Math.round(map.getZoom());
  const response = await fetch(`/api/v1/map/regions?level=${level}&zoom=${zoom}&bbox=${bboxOf(map)}`);
  if (!response.ok) return;
  const data = await response.json();
  layer.clearLayers();
  layer.addData(data);
  layer.eachLayer((f) => {
    const code = f.feature.properties.code;
    f.bindTooltip(`${f.feature.properties.name || ""} ${code}`, { sticky: true });
    if (code === highlight) {
      f.setStyle({ color: "#c62828", weight: 3, fillColor: "#ffcdd2", fillOpacity: 0.35 });
      f.bringToFront();
    }
  });
}

export function caseMap(element) {
  if (!L || !element) return null;
  const lon = parseFloat(element.dataset.lon);
  const lat = parseFloat(element.dataset.lat);
  const centre = Number.isFinite(lat) && Number.isFinite(lon)
    ? [lat, lon]
    : [parseFloat(element.dataset.centreLat || "0"), parseFloat(element.dataset.centreLon || "0")];
  const map = L.map(element, { zoomControl: true, attributionControl: false })
    .setView(centre, parseInt(element.dataset.zoom || "17", 10));
  const streets = L.geoJSON(null, { style: { color: "#0b4a8b", weight: 2, fill: false } }).addTo(map);
  const grids = L.geoJSON(null, {
    style: { color: "#607d8b", weight: 1, fillColor: "#cfd8dc", fillOpacity: 0.15 },
  }).addTo(map);
  let marker = Number.isFinite(lat) ? L.circleMarker([lat, lon], {
    radius: 8, color: "#fff", weight: 2, fillColor: "#e53935", fillOpacity: 1,
  }).addTo(map) : null;
  const refresh = () => {
    const zoom = map.getZoom();
    if (zoom >= 15) outlines(map, grids, "grid", element.dataset.grid); else grids.clearLayers();
    outlines(map, streets, zoom >= 14 ? "community" : "street", null);
  };
  map.on("moveend", refresh);
  refresh();
  if (element.dataset.pick) {
    const [lonId, latId] = element.dataset.pick.split(",");
    map.getContainer().style.cursor = "crosshair";
    map.on("click", (event) => {
      const { lat: y, lng: x } = event.latlng;
      if (marker) marker.setLatLng(event.latlng);
      else marker = L.circleMarker(event.latlng, {
        radius: 8, color: "#fff", weight: 2, fillColor: "#e53935", fillOpacity: 1,
      }).addTo(map);
      const lonInput = document.getElementById(lonId);
      const latInput = document.getElementById(latId);
      lonInput.value = x.toFixed(6);
      latInput.value = y.toFixed(6);
      latInput.dispatchEvent(new Event("change", { bubbles: true }));
    });
    element.moveTo = (x, y) => {
      map.setView([y, x], Math.max(map.getZoom(), 17));
      if (marker) marker.setLatLng([y, x]);
      else marker = L.circleMarker([y, x], {
        radius: 8, color: "#fff", weight: 2, fillColor: "#e53935", fillOpacity: 1,
      }).addTo(map);
    };
  }
  return map;
}

document.querySelectorAll("[data-map]").forEach((element) => caseMap(element));
