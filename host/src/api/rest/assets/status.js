// Hypasis Sync status page: polls /api/v1/status and /health and draws them.
// Every number shown comes from those two documents, unchanged (the browser
// test compares them).
"use strict";

const REFRESH_MS = 3000;

function $(id) { return document.getElementById(id); }

function setText(id, value) {
  const node = $(id);
  if (node) node.textContent = value === null || value === undefined ? "–" : String(value);
}

function percent(fraction) {
  return fraction === null || fraction === undefined ? "–" : (fraction * 100).toFixed(1) + "%";
}

function setBar(id, fraction) {
  const clamped = Math.max(0, Math.min(1, fraction || 0));
  $(id).style.width = (clamped * 100).toFixed(1) + "%";
}

function row(cells, classes) {
  const tr = document.createElement("tr");
  cells.forEach((text, index) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (classes && classes[index]) td.className = classes[index];
    tr.appendChild(td);
  });
  return tr;
}

function fill(id, rows) {
  const body = $(id);
  body.replaceChildren(...rows);
}

function drawChart(points) {
  const canvas = $("rate-chart");
  const context = canvas.getContext("2d");
  const width = canvas.width, height = canvas.height;
  context.clearRect(0, 0, width, height);
  const max = Math.max(1, ...points.map((p) => Math.max(p.forward, p.backward)));
  context.fillStyle = "#8b93a7";
  context.font = "11px sans-serif";
  context.fillText(max.toFixed(0) + " blocks/s", 6, 12);
  if (points.length < 2) {
    context.fillText("collecting samples (one every 10 s)…", 6, height / 2);
    return;
  }
  const first = points[0].time, last = points[points.length - 1].time;
  const span = Math.max(1, last - first);
  for (const [key, colour] of [["forward", "#7b61ff"], ["backward", "#21b8c7"]]) {
    context.strokeStyle = colour;
    context.lineWidth = 2;
    context.beginPath();
    points.forEach((point, index) => {
      const x = ((point.time - first) / span) * (width - 10) + 5;
      const y = height - 5 - (point[key] / max) * (height - 25);
      if (index === 0) context.moveTo(x, y); else context.lineTo(x, y);
    });
    context.stroke();
  }
}

function render(status, health) {
  setText("instance", status.instance.id);
  setText("region", status.instance.region);
  setText("version", status.instance.version);
  setText("chain", status.chain ? status.chain.name + " (" + status.chain.chain_id + ")" : "no chain yet");
  setText("head-number", status.head ? status.head.number : null);
  setText("head-hash", status.head ? status.head.hash : "");
  setText("checkpoint-end", status.checkpoint ? status.checkpoint.end : null);
  setText("checkpoint-range", status.checkpoint ? "blocks " + status.checkpoint.start + "–" + status.checkpoint.end + " · id " + status.checkpoint.id : "none known");
  setText("milestone-end", status.milestone ? status.milestone.end : null);
  setText("milestone-hash", status.milestone ? status.milestone.hash : "none known");
  setText("verified-blocks", status.coverage.verified_blocks);
  setText("coverage-detail", (status.coverage.stored_blocks === null ? "–" : status.coverage.stored_blocks) + " stored · " + status.coverage.unconfirmed_blocks + " unconfirmed");

  const fwd = status.forward;
  if (fwd && fwd.cursor !== null && fwd.upstream_head) {
    setBar("forward-bar", fwd.cursor / fwd.upstream_head);
    setText("forward-text", fwd.cursor + " / " + fwd.upstream_head + (fwd.done ? " · following the head" : ""));
  } else {
    setBar("forward-bar", status.mode === "serve" ? 1 : 0);
    setText("forward-text", status.mode === "serve" ? "serving an imported chain" : "not started");
  }
  const bwd = status.backward;
  if (bwd && bwd.progress !== null) {
    setBar("backward-bar", bwd.progress);
    setText("backward-text", bwd.cursor + " → " + bwd.floor + " · " + percent(bwd.progress));
  } else {
    setBar("backward-bar", status.mode === "serve" ? 1 : 0);
    setText("backward-text", status.mode === "serve" ? "serving an imported chain" : "not started");
  }
  const headNumber = status.head ? status.head.number : 0;
  const verifiedShare = headNumber > 0 ? status.coverage.verified_blocks / (headNumber + 1) : 0;
  setBar("verified-bar", verifiedShare);
  setText("verified-text", status.coverage.verified_blocks + " blocks · " + percent(verifiedShare));

  drawChart(status.rate_history || []);

  const peers = status.peers;
  setText("peer-count", peers ? peers.connected + " / " + peers.max : "devp2p off");
  const clients = peers ? peers.clients.map((c) => row([c.client, c.version, String(c.count)])) : [];
  fill("peers", clients.length ? clients : [row([peers ? "no peers connected" : "devp2p is off", "", ""])]);
  setText("enode", peers ? peers.enode : "");
  const upstreams = status.upstreams.map((u) => row(
    [u.name, u.healthy ? "healthy" : "unhealthy", u.score.toFixed(2), String(u.head), u.latency_ms.toFixed(1) + " ms"],
    [null, u.healthy ? "ok" : "bad"]));
  fill("upstreams", upstreams.length ? upstreams : [row([status.mode === "serve" ? "none: serving an imported chain" : "none configured", "", "", "", ""])]);

  const badge = $("health");
  badge.textContent = health.status;
  badge.className = "badge " + health.status;
  fill("checks", Object.entries(health.checks).map(([name, check]) =>
    row([name, check.healthy ? "healthy" : "unhealthy", check.message], [null, check.healthy ? "ok" : "bad"])));
  setText("updated", "updated " + new Date().toLocaleTimeString() + " · uptime " + health.uptime_hours.toFixed(2) + " h");
  document.body.dataset.loaded = "true";
}

async function refresh() {
  try {
    const [status, health] = await Promise.all([
      fetch("/api/v1/status").then((r) => r.json()),
      fetch("/health").then((r) => r.json()),
    ]);
    render(status, health);
  } catch (error) {
    const badge = $("health");
    badge.textContent = "unreachable";
    badge.className = "badge unhealthy";
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
