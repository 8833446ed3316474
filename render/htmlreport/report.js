"use strict";
// tcptrace report: everything is in this file; the data is the JSON of
// <script id="data">. Connection details are gzip-compressed chunks,
// inflated when a connection is opened.
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const R = { id: 0, client: 1, server: 2, start: 3, dur: 4, pktsC: 5, pktsS: 6, bytesC: 7, bytesS: 8, rtt: 9,
    state: 10, hs: 11, close: 12, zeek: 13, anoms: 14, causes: 15, retrans: 16, trouble: 17, chunk: 18 };
  const rows = data.rows;
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  };
  const fmtTime = us => {
    const d = new Date(Math.floor(us / 1000));
    const frac = String(us % 1000000).padStart(6, "0");
    return d.toISOString().slice(0, 10) + " " + d.toISOString().slice(11, 19) + "." + frac;
  };
  const clean = r => ["four-way", "three-way", "simultaneous"].includes(r[R.close]) && !r[R.anoms];

  // The header: files, and the summary cards.
  const sum = data.summary || {};
  document.getElementById("files").textContent = (sum.files || []).join(", ") +
    " — " + (sum.frames || 0) + " frames, " + data.counts.conns + " connections" +
    (sum.first_packet ? ", " + sum.first_packet + " .. " + sum.last_packet : "");

  // Facets: a filter picked by clicking a count.
  let facet = null; // {key, value}
  const facetMatch = {
    handshake: (r, v) => r[R.hs] === v,
    close: (r, v) => r[R.close] === v,
    zeek: (r, v) => r[R.zeek] === v,
    cause: (r, v) => r[R.causes].split(", ").includes(v),
    anomaly: (r, v) => r[R.anoms].split(", ").some(a => a.slice(0, a.lastIndexOf(" ")) === v),
  };
  function card(title, key, m, cls) {
    const entries = Object.entries(m || {}).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const t = el("table");
    if (!entries.length) t.append(el("tr", {}, el("td", { class: "hint", text: "none" })));
    for (const [k, n] of entries) {
      const a = el("a", { class: "pick", href: "#conns", "data-facet": key, "data-value": k, text: k });
      a.addEventListener("click", ev => { ev.preventDefault(); facet = { key, value: k }; page = 0; refresh(); document.getElementById("conns").scrollIntoView(); });
      t.append(el("tr", {}, el("td", { class: cls ? cls(k) : "" }, a), el("td", { class: "n", text: String(n) })));
    }
    return el("div", { class: "card" }, el("h3", { text: title }), t);
  }
  const badClose = k => ["reset", "fin-then-reset"].includes(k) ? "bad" : ["four-way", "three-way", "simultaneous"].includes(k) ? "ok" : "";
  const s = document.getElementById("summary");
  s.append(el("h2", { text: "Summary" }));
  const c = data.counts;
  s.append(el("div", { class: "cards" },
    card("How they began", "handshake", c.handshake, k => k === "refused" ? "bad" : ""),
    card("How they ended", "close", c.close, badClose),
    card("Zeek conn_state", "zeek", c.zeek),
    card("Reset causes (" + c.rsts + " RSTs)", "cause", c.causes, () => "bad"),
    card("Anomalies", "anomaly", c.anomalies)));
  const notes = [];
  if (sum.connections_evicted) notes.push(sum.connections_evicted + " connections were finished early: the connection table was full (--max-conns).");
  if (sum.truncated_segments) notes.push(sum.truncated_segments + " segments were cut by the snaplen.");
  for (const e of sum.errors || []) notes.push("Input error: " + e);
  if (sum.interrupted) notes.push("Interrupted by " + sum.signal + " at frame " + sum.last_frame + (sum.last_file ? " of " + sum.last_file : "") +
    ": what was read before is reported, connections still open then as open.");
  for (const n of notes) s.append(el("p", { class: "warn", text: n }));

  // The table.
  const cols = [
    { name: "id", title: "id", key: r => r[R.id], num: true },
    { name: "conn", title: "client → server", key: r => r[R.client] + " → " + r[R.server], cls: () => "nowrap" },
    { name: "start", title: "start (UTC)", key: r => r[R.start], show: r => fmtTime(r[R.start]), cls: () => "nowrap" },
    { name: "duration", title: "duration s", key: r => r[R.dur], num: true, show: r => r[R.dur].toFixed(6) },
    { name: "pkts", title: "pkts → / ←", key: r => r[R.pktsC] + r[R.pktsS], num: true, show: r => r[R.pktsC] + " / " + r[R.pktsS] },
    { name: "bytes", title: "bytes → / ←", key: r => r[R.bytesC] + r[R.bytesS], num: true, show: r => r[R.bytesC] + " / " + r[R.bytesS] },
    { name: "rtt", title: "rtt ms", key: r => r[R.rtt], num: true, show: r => r[R.rtt] < 0 ? "-" : r[R.rtt].toFixed(3) },
    { name: "state", title: "state", key: r => r[R.state], cls: r => "nowrap " + (badClose(r[R.close]) || (r[R.hs] === "refused" ? "bad" : "")) },
    { name: "zeek", title: "zeek", key: r => r[R.zeek] },
    { name: "retrans", title: "retrans", key: r => r[R.retrans], num: true },
    { name: "anomalies", title: "anomalies", key: r => r[R.anoms], cls: () => "anoms" },
    { name: "causes", title: "reset causes", key: r => r[R.causes], cls: () => "bad" },
  ];
  let sortCol = 0, sortDir = 1, page = 0;
  const head = document.getElementById("head");
  cols.forEach((col, i) => {
    const th = el("th", { scope: "col", "data-col": col.name, text: col.title });
    th.addEventListener("click", () => {
      // A new column sorts the most first, id and text columns A→Z; the
      // same column again reverses.
      if (sortCol === i) sortDir = -sortDir; else { sortCol = i; sortDir = col.num && col.name !== "id" ? -1 : 1; }
      page = 0; refresh();
    });
    head.append(th);
  });
  const filterBox = document.getElementById("filter");
  const only = document.getElementById("only");
  const pagesize = document.getElementById("pagesize");
  const onlyMatch = {
    "": () => true,
    reset: r => r[R.close] === "reset" || r[R.close] === "fin-then-reset",
    refused: r => r[R.hs] === "refused",
    anomalies: r => r[R.anoms] !== "",
    unclean: r => !clean(r),
  };
  function visible() {
    const q = filterBox.value.trim().toLowerCase();
    const o = onlyMatch[only.value];
    const f = facet ? facetMatch[facet.key] : null;
    const out = rows.filter(r => o(r) && (!f || f(r, facet.value)) && (!q ||
      ("#" + r[R.id] + " " + r[R.client] + " " + r[R.server] + " " + r[R.state] + " " + r[R.zeek] + " " + r[R.anoms] + " " + r[R.causes]).toLowerCase().includes(q)));
    const key = cols[sortCol].key;
    out.sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : a[R.id] - b[R.id]) * (x === y ? 1 : sortDir); });
    return out;
  }
  const body = document.getElementById("body");
  function refresh() {
    const list = visible();
    const size = Number(pagesize.value);
    const pages = size ? Math.max(1, Math.ceil(list.length / size)) : 1;
    page = Math.min(page, pages - 1);
    const shown = size ? list.slice(page * size, (page + 1) * size) : list;
    head.querySelectorAll("th").forEach((th, i) => {
      if (i === sortCol) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending"); else th.removeAttribute("aria-sort");
    });
    body.replaceChildren();
    for (const r of shown) body.append(connRow(r));
    document.getElementById("count").textContent = list.length + " of " + rows.length + " connections" +
      (facet ? " (" + facet.key + " = " + facet.value + ")" : "");
    document.getElementById("page").textContent = "page " + (page + 1) + " of " + pages;
    document.getElementById("prev").disabled = page === 0;
    document.getElementById("next").disabled = page >= pages - 1;
  }
  function connRow(r) {
    const tr = el("tr", { class: "conn", "data-id": String(r[R.id]), tabindex: "0" });
    for (const col of cols) {
      const v = col.show ? col.show(r) : String(col.key(r));
      tr.append(el("td", { class: (col.num ? "num " : "") + (col.cls ? col.cls(r) : ""), text: v }));
    }
    const toggle = () => openConn(tr, r);
    tr.addEventListener("click", toggle);
    tr.addEventListener("keydown", ev => { if (ev.key === "Enter") toggle(); });
    return tr;
  }
  filterBox.addEventListener("input", () => { page = 0; refresh(); });
  only.addEventListener("change", () => { page = 0; refresh(); });
  pagesize.addEventListener("change", () => { page = 0; refresh(); });
  document.getElementById("prev").addEventListener("click", () => { page--; refresh(); });
  document.getElementById("next").addEventListener("click", () => { page++; refresh(); });
  document.getElementById("clear").addEventListener("click", () => { facet = null; filterBox.value = ""; only.value = ""; page = 0; refresh(); });

  // Details, inflated on demand.
  const chunkCache = new Map();
  async function inflate(b64) {
    const bin = Uint8Array.from(atob(b64), ch => ch.charCodeAt(0));
    const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }
  async function detailOf(r) {
    const k = r[R.chunk];
    if (!chunkCache.has(k)) chunkCache.set(k, inflate(data.chunks[k]));
    const chunk = await chunkCache.get(k);
    return chunk[r[R.id]];
  }
  async function openConn(tr, r) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains("detail")) { next.remove(); tr.classList.remove("open"); return; }
    tr.classList.add("open");
    const td = el("td", { colspan: String(cols.length), text: "loading…" });
    const dr = el("tr", { class: "detail", "data-id": String(r[R.id]) }, td);
    tr.after(dr);
    try {
      const d = await detailOf(r);
      const heavy = data.heavy[r[R.id]] ? await inflate(data.heavy[r[R.id]]) : null;
      td.replaceChildren(...detailView(r, d, heavy));
    } catch (e) {
      td.textContent = "could not read the details: " + e;
      console.error(e);
    }
  }
  function facts(pairs) {
    const dl = el("dl", { class: "facts" });
    for (const [k, v] of pairs) if (v !== undefined && v !== null && v !== "") dl.append(el("dt", { text: k }), el("dd", { text: String(v) }));
    return dl;
  }
  function detailView(r, d, heavy) {
    const out = [];
    out.push(el("h3", { text: "Connection " + r[R.id] + ": " + r[R.client] + " → " + r[R.server] }));
    const h = d.handshake || {}, cl = d.close || {};
    const hsFrames = [h.syn_frame && "SYN " + h.syn_frame, h.synack_frame && "SYN-ACK " + h.synack_frame, h.ack_frame && "ACK " + h.ack_frame].filter(Boolean).join(", ");
    const clFrames = [cl.first_fin && "first FIN " + cl.first_fin + (cl.first_fin_by ? " (" + cl.first_fin_by + ")" : ""),
      cl.second_fin && "second FIN " + cl.second_fin, cl.last_ack && "last ACK " + cl.last_ack,
      cl.rst_frame && "RST " + cl.rst_frame + (cl.rst_by ? " (" + cl.rst_by + ")" : "")].filter(Boolean).join(", ");
    out.push(facts([
      ["frames", d.frames],
      ["handshake", (h.class || "") + (hsFrames ? " — frames " + hsFrames : "") + (h.syn_retransmissions ? ", " + h.syn_retransmissions + " SYN retransmissions" : "")],
      ["close", (cl.class || "") + (d.closed_by ? " by " + d.closed_by : "") + (clFrames ? " — " + clFrames : "")],
      ["final states", "client " + d.client_state + ", server " + d.server_state],
      ["Zeek", r[R.zeek] + (d.history ? ", history " + d.history : "")],
      ["rtt", r[R.rtt] < 0 ? "" : r[R.rtt].toFixed(3) + " ms"],
    ]));
    if (d.resets) {
      out.push(el("h3", { text: "Reset diagnosis" }));
      out.push(el("pre", { class: "resets", text: d.resets }));
    }
    if (d.anomalies && d.anomalies.length) {
      out.push(el("h3", { text: "Anomalies" }));
      const t = el("table", { class: "anoms" });
      t.append(el("tr", {}, el("th", { text: "frame" }), el("th", { text: "from" }), el("th", { text: "kind" }), el("th", { text: "detail" })));
      for (const a of d.anomalies) {
        t.append(el("tr", {}, el("td", { class: "mono", text: String(a.frame) }), el("td", { text: a.dir }),
          el("td", { class: "sev-" + a.severity, text: a.kind }), el("td", { text: a.detail || "" })));
      }
      out.push(t);
      if (d.anomalies_more) out.push(el("p", { class: "hint", text: "… and " + d.anomalies_more + " more (tcptrace analyze --anomalies)." }));
    }
    if (heavy) {
      out.push(el("h3", { text: "Ladder" }));
      out.push(el("pre", { class: "ladder", text: heavy.ladder }));
      if (heavy.graphs && heavy.graphs.length) {
        out.push(el("h3", { text: "Graphs" }));
        const g = el("div", { class: "graphs" });
        for (const gr of heavy.graphs) {
          const box = el("figure", { class: "graph" });
          box.innerHTML = gr.svg; // made by tcptrace, escaped there
          box.append(el("figcaption", { class: "hint", text: gr.title }));
          g.append(box);
        }
        out.push(g);
      }
    } else {
      out.push(el("p", { class: "hint", text: "The ladder and graphs are kept for the " + data.heavy_max +
        " most troubled connections only. Draw this one with: " + data.command.replace("{id}", r[R.id]) }));
    }
    return out;
  }
  refresh();
})();
