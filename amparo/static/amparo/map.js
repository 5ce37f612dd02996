// The map page (monitoring/map.html): Leaflet on the offline country outlines, with the
// incidents, hotspots and reference layers read from the page's GeoJSON endpoints.
// No inline script or style (CSP); every text from the data is set as text, never HTML.
(function () {
  "use strict";

  const KIND_COLOURS = {
    mining_camp: "#b8860b",
    logging_route: "#2e7d32",
    airstrip: "#6a1b9a",
    land_trafficking: "#c62828",
    coca: "#1565c0",
    other: "#555555",
  };
  const LEVEL_COLOURS = { high: "#b71c1c", medium: "#ef6c00", low: "#f9a825" };

  function escapeText(text) {
    const span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span.innerHTML;
  }

  function popup(rows, link) {
    const box = document.createElement("div");
    box.className = "map-popup";
    const list = document.createElement("dl");
    rows.forEach(function (row) {
      if (row[1] === undefined || row[1] === null || row[1] === "") return;
      const dt = document.createElement("dt");
      dt.textContent = row[0];
      const dd = document.createElement("dd");
      dd.textContent = String(row[1]);
      list.appendChild(dt);
      list.appendChild(dd);
    });
    box.appendChild(list);
    if (link) {
      const a = document.createElement("a");
      a.href = link[0];
      a.textContent = link[1];
      box.appendChild(a);
    }
    return box;
  }

  // One request at a time, in the order asked (base map first): on a 2G link parallel
  // downloads only slow each other, and the server sees one request per member at once.
  let queue = Promise.resolve();
  function fetchJson(url) {
    const next = queue.then(function () {
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status + " " + url);
          return response.json();
        });
    });
    queue = next.catch(function () { return null; });
    return next;
  }

  function start() {
    const element = document.getElementById("map");
    if (!element || typeof L === "undefined") return;
    const data = element.dataset;
    const status = document.getElementById("map-status");
    const query = window.location.search.replace(/^\?/, "");
    const withQuery = function (url, extra) {
      const parts = [query, extra || ""].filter(Boolean).join("&");
      return parts ? url + "?" + parts : url;
    };
    const layerUrl = function (slug) { return data.layerUrl.replace("LAYER", slug); };

    const map = L.map(element, { zoomControl: true, preferCanvas: false });
    map.fitBounds([[-13.5, -72.5], [-9, -65]]);
    map.attributionControl.setPrefix(false);

    if (data.tileUrl) {
      // The operator's attribution setting may hold a link: it is theirs, not the data's.
      L.tileLayer(data.tileUrl, { attribution: data.tileAttribution, maxZoom: 18 }).addTo(map);
    }

    const overlays = {};
    const control = L.control.layers(null, null, { collapsed: false }).addTo(map);

    function addOverlay(label, layer, on) {
      overlays[label] = layer;
      control.addOverlay(layer, escapeText(label));
      if (on) layer.addTo(map);
    }

    // Base map: the country outlines shipped with Amparo (works with no internet).
    const countries = L.geoJSON(null, {
      style: { color: "#607d8b", weight: 1, fillColor: "#eceff1", fillOpacity: 0.6 },
      interactive: false,
    });
    countries.addTo(map);
    fetchJson(layerUrl("countries")).then(function (collection) {
      countries.options.attribution = escapeText(collection.attribution);
      countries.addData(collection);
      map.attributionControl.addAttribution(escapeText(collection.attribution));
      element.classList.add("countries-loaded");
    });

    const indigenous = L.geoJSON(null, {
      style: { color: "#6d4c41", weight: 1, fillColor: "#a1887f", fillOpacity: 0.25 },
      onEachFeature: function (feature, layer) {
        const p = feature.properties || {};
        layer.bindPopup(popup([[data.labelIndigenous, p.name || p.NOMBRE || p.nombre],
          ["", p.type_field], ["", p.status_field], ["", p.source_field]]));
      },
    });
    fetchJson(layerUrl("indigenous-territories")).then(function (collection) {
      indigenous.addData(collection);
      map.attributionControl.addAttribution(escapeText(collection.attribution));
    });
    addOverlay(data.labelIndigenous, indigenous, true);

    const yearSelect = document.getElementById("id_year");
    const mining = L.geoJSON(null, {
      style: { color: "#e65100", weight: 1, fillColor: "#ff9800", fillOpacity: 0.5 },
      onEachFeature: function (feature, layer) {
        const p = feature.properties || {};
        layer.bindPopup(popup([[data.labelMining, p.year], ["ha", p.mined_area_ha]]));
      },
    });
    let miningLoaded = false;
    function loadMining() {
      if (miningLoaded) return;
      miningLoaded = true;
      const year = yearSelect && yearSelect.value ? "year=" + encodeURIComponent(yearSelect.value) : "";
      fetchJson(layerUrl("mining-detections") + (year ? "?" + year : "")).then(function (collection) {
        mining.addData(collection);
        map.attributionControl.addAttribution(escapeText(collection.attribution));
      });
    }
    addOverlay(data.labelMining, mining, false);
    map.on("overlayadd", function (event) { if (event.layer === mining) loadMining(); });
    if (yearSelect && yearSelect.value) { mining.addTo(map); loadMining(); }

    const hotspotLayer = L.geoJSON(null, {
      style: function (feature) {
        const colour = KIND_COLOURS[(feature.properties || {}).kind] || "#555555";
        return { color: colour, weight: 3, fillColor: colour, fillOpacity: 0.3 };
      },
      pointToLayer: function (feature, latlng) {
        const colour = KIND_COLOURS[(feature.properties || {}).kind] || "#555555";
        return L.circleMarker(latlng, { radius: 7, color: colour, fillColor: colour, fillOpacity: 0.7 });
      },
      onEachFeature: function (feature, layer) {
        const p = feature.properties || {};
        layer.bindPopup(popup(
          [[data.labelHotspots, p.kind_label], ["", p.observed_on], ["", p.confidence], ["", p.source], ["", p.notes]],
          p.edit_url ? [p.edit_url, data.labelEdit] : null
        ));
      },
    });
    fetchJson(withQuery(data.hotspotsUrl)).then(function (collection) {
      hotspotLayer.addData(collection);
      element.classList.add("hotspots-loaded");
    });
    addOverlay(data.labelHotspots, hotspotLayer, true);

    const incidentLayer = L.geoJSON(null, {
      pointToLayer: function (feature, latlng) {
        const p = feature.properties || {};
        if (p.count !== undefined) {
          return L.circleMarker(latlng, {
            radius: Math.min(30, 5 + 3 * Math.sqrt(p.count)),
            color: "#b71c1c", fillColor: "#e53935", fillOpacity: 0.5, weight: 1,
          });
        }
        const colour = LEVEL_COLOURS[p.level] || "#424242";
        return L.circleMarker(latlng, {
          radius: 5, color: colour, fillColor: colour, fillOpacity: 0.8, weight: 1,
          dashArray: p.precise ? null : "2 3",
        });
      },
      onEachFeature: function (feature, layer) {
        const p = feature.properties || {};
        if (p.count !== undefined) {
          layer.bindPopup(popup([[data.labelIncidents, p.count + " " + data.labelCount]]));
        } else {
          layer.bindPopup(popup([[data.labelIncidents, p.kind_label], ["", p.level], ["", p.date],
            ["", p.precise ? "" : data.labelApproximate]]));
        }
      },
    });
    fetchJson(withQuery(data.incidentsUrl)).then(function (collection) {
      incidentLayer.addData(collection);
      if (collection.more && status) status.textContent = data.labelMore;
      element.classList.add("incidents-loaded");
    });
    addOverlay(data.labelIncidents, incidentLayer, true);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
