// Plain SVG drawings: the communes at their centroids, moves as arrows, bars against a target.
// No tiles and no library: points are projected with an equirectangular projection scaled by
// cos(latitude), which is true enough at the size of a province (or of the country).

const NS = "http://www.w3.org/2000/svg";

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/** A projection of [lat, lon] points into a width×height box with a margin. */
export function projection(points, width, height, margin = 12) {
  const ok = points.filter((p) => p.lat != null && p.lon != null);
  if (!ok.length) return () => [width / 2, height / 2];
  const lats = ok.map((p) => p.lat);
  const lons = ok.map((p) => p.lon);
  const [lat0, lat1] = [Math.min(...lats), Math.max(...lats)];
  const [lon0, lon1] = [Math.min(...lons), Math.max(...lons)];
  const k = Math.cos((((lat0 + lat1) / 2) * Math.PI) / 180);
  const w = Math.max((lon1 - lon0) * k, 1e-6);
  const h = Math.max(lat1 - lat0, 1e-6);
  const scale = Math.min((width - 2 * margin) / w, (height - 2 * margin) / h);
  const dx = (width - w * scale) / 2;
  const dy = (height - h * scale) / 2;
  return (lat, lon) => [dx + (lon - lon0) * k * scale, height - dy - (lat - lat0) * scale];
}

export const COLOURS = { nonLocal: "#1f7a3a", local: "#c2410c", vacant: "#9ca3af" };

function kind(c) {
  if (c.non_local == null) return "vacant";
  return c.non_local ? "nonLocal" : "local";
}

function legend(items, y) {
  const g = s("g", { class: "legend", transform: `translate(8 ${y})` });
  items.forEach(([colour, text], i) => {
    g.append(s("circle", { cx: 6, cy: i * 16, r: 5, fill: colour }));
    g.append(s("text", { x: 16, y: i * 16 + 4 }, text));
  });
  return g;
}

/** The communes as dots coloured non-local / local / vacant; one <path> per colour keeps the
 * national structure (3,321 communes) to a handful of DOM nodes. */
export function communeMap(communes, words, { width = 640, height = 520 } = {}) {
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": words.mapLabel,
    class: "map",
  });
  svg.append(s("title", {}, words.mapLabel));
  const project = projection(communes, width, height);
  const r = communes.length > 1000 ? 1.6 : 4;
  const paths = { nonLocal: [], local: [], vacant: [] };
  for (const c of communes) {
    if (c.lat == null || c.lon == null) continue;
    const [x, y] = project(c.lat, c.lon);
    paths[kind(c)].push(`M${(x - r).toFixed(1)} ${y.toFixed(1)}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`);
  }
  for (const [k, d] of Object.entries(paths)) {
    if (d.length) svg.append(s("path", { d: d.join(""), fill: COLOURS[k], class: `dots ${k}` }));
  }
  const counts = Object.fromEntries(Object.entries(paths).map(([k, d]) => [k, d.length]));
  svg.append(
    legend(
      [
        [COLOURS.nonLocal, `${words.nonLocal} (${counts.nonLocal})`],
        [COLOURS.local, `${words.local} (${counts.local})`],
        [COLOURS.vacant, `${words.vacant} (${counts.vacant})`],
      ],
      14,
    ),
  );
  return svg;
}

/** Moves: every changed post as an arrow from where its new holder works today to the post's
 * commune; each arrow is focusable and calls `onPick(post_id)` on click or Enter. */
export function movesMap(background, moves, words, onPick, { width = 640, height = 520 } = {}) {
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "group",
    "aria-label": words.movesLabel,
    class: "map",
  });
  svg.append(s("title", {}, words.movesLabel));
  const marker = s(
    "marker",
    { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" },
    s("path", { d: "M0 0L10 5L0 10z", fill: "#1d4ed8" }),
  );
  svg.append(s("defs", {}, marker));
  const pts = background.concat(moves.flatMap((m) => [m.from, m.to]).filter(Boolean));
  const project = projection(pts, width, height);
  const dots = background
    .filter((c) => c.lat != null)
    .map((c) => {
      const [x, y] = project(c.lat, c.lon);
      return `M${(x - 1.5).toFixed(1)} ${y.toFixed(1)}a1.5 1.5 0 1 0 3 0a1.5 1.5 0 1 0 -3 0`;
    });
  svg.append(s("path", { d: dots.join(""), fill: "#cbd5e1" }));
  for (const m of moves) {
    if (!m.to || m.to.lat == null) continue;
    const [x1, y1] = project(m.to.lat, m.to.lon);
    const g = s("g", { class: "move", tabindex: 0, role: "button", "aria-label": m.label, "data-post": m.post_id });
    g.append(s("title", {}, m.label));
    if (m.from && m.from.lat != null && (m.from.lat !== m.to.lat || m.from.lon !== m.to.lon)) {
      const [x0, y0] = project(m.from.lat, m.from.lon);
      g.append(s("line", { x1: x0, y1: y0, x2: x1, y2: y1, "marker-end": "url(#arrow)" }));
    }
    g.append(s("circle", { cx: x1, cy: y1, r: 4 }));
    const pick = () => onPick(m.post_id);
    g.addEventListener("click", pick);
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        pick();
      }
    });
    svg.append(g);
  }
  return svg;
}

/** Horizontal bars of shares (0–1), one per scope, with the target as a dashed line. */
export function shareBars(scopes, words, fmt, { width = 640 } = {}) {
  const rowH = 18;
  const left = 170;
  const right = 60;
  const height = scopes.length * rowH + 30;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": words.barsLabel, class: "bars" });
  svg.append(s("title", {}, words.barsLabel));
  const x = (share) => left + share * (width - left - right);
  scopes.forEach((sc, i) => {
    const y = 10 + i * rowH;
    const ok = sc.target == null || sc.share + 1e-9 >= sc.target;
    svg.append(s("text", { x: left - 6, y: y + 12, "text-anchor": "end", class: "barname" }, sc.name));
    svg.append(s("rect", { x: left, y: y + 2, width: Math.max(0, x(sc.share) - left), height: rowH - 5, class: ok ? "bar ok" : "bar short" }));
    svg.append(s("text", { x: x(sc.share) + 4, y: y + 12, class: "barvalue" }, fmt(sc.share)));
    if (sc.target != null) {
      svg.append(s("line", { x1: x(sc.target), x2: x(sc.target), y1: y, y2: y + rowH, class: "target" }));
    }
  });
  const axisY = 10 + scopes.length * rowH + 4;
  [0, 0.25, 0.5, 0.75, 1].forEach((v) => {
    svg.append(s("text", { x: x(v), y: axisY + 12, "text-anchor": "middle", class: "axis" }, fmt(v, 0)));
  });
  return svg;
}
