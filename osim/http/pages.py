"""The leaderboard page: static HTML whose script renders ``leaderboard.json`` and recent submissions.

Everything from the database is inserted with ``textContent`` (participant names are free text).
URLs are relative, so the page also works behind a reverse proxy under a path prefix.
"""

LEADERBOARD_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>osim-rl leaderboard</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
  h1 { font-size: 1.6rem; }
  nav a { margin-right: 1rem; }
  nav a.current { font-weight: bold; text-decoration: none; color: #222; }
  table { border-collapse: collapse; width: 100%; margin-bottom: 2rem; }
  th, td { padding: .35rem .6rem; border-bottom: 1px solid #ddd; text-align: left; }
  td.number { text-align: right; font-variant-numeric: tabular-nums; }
  tr.first td { background: #fff3c4; }
  .status-unfinished { color: #a33; }
  .status-running { color: #36a; }
  #error { color: #a33; }
</style>
</head>
<body>
<h1>osim-rl leaderboard: <span id="env-id">&hellip;</span> on <span id="engine">&hellip;</span></h1>
<nav id="envs"></nav>
<nav id="engines"></nav>
<p id="error"></p>
<table id="leaderboard">
  <thead><tr><th>#</th><th>Participant</th><th>Mean reward</th><th>Total reward</th>
  <th>Simulations</th><th>Submissions</th><th>Scored</th><th>Engine</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Recent submissions</h2>
<table id="recent">
  <thead><tr><th>Id</th><th>Participant</th><th>Status</th><th>Total reward</th>
  <th>Simulations run</th><th>Note</th><th>Engine</th></tr></thead>
  <tbody></tbody>
</table>
<p><small id="state" data-state="loading">Loading&hellip;</small></p>
<script>
"use strict";
const params = new URLSearchParams(window.location.search);

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
}

function number(value) {
  return value === null || value === undefined ? "" : Number(value).toFixed(4);
}

function when(seconds) {
  return seconds ? new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "";
}

async function fetchJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(url + ": HTTP " + response.status);
  return response.json();
}

async function load() {
  const asked = new URLSearchParams();
  for (const key of ["env_id", "engine"]) if (params.get(key)) asked.set(key, params.get(key));
  const query = asked.toString() ? "?" + asked.toString() : "";
  try {
    const board = await fetchJson("leaderboard.json" + query);
    const recent = await fetchJson("v1/submissions?limit=20&env_id=" + encodeURIComponent(board.env_id));
    document.getElementById("env-id").textContent = board.env_id;
    document.getElementById("engine").textContent = board.engine;
    const engineNav = document.getElementById("engines");
    engineNav.replaceChildren();
    for (const engine of board.engines) {
      const link = document.createElement("a");
      link.href = "?env_id=" + encodeURIComponent(board.env_id) + "&engine=" + encodeURIComponent(engine);
      link.textContent = engine;
      if (engine === board.engine) link.className = "current";
      engineNav.appendChild(link);
    }
    document.title = "osim-rl leaderboard: " + board.env_id;
    const nav = document.getElementById("envs");
    nav.replaceChildren();
    for (const envId of board.env_ids) {
      const link = document.createElement("a");
      link.href = "?env_id=" + encodeURIComponent(envId);
      link.textContent = envId;
      if (envId === board.env_id) link.className = "current";
      nav.appendChild(link);
    }
    const body = document.querySelector("#leaderboard tbody");
    body.replaceChildren();
    for (const entry of board.entries) {
      const row = document.createElement("tr");
      if (entry.rank === 1) row.className = "first";
      cell(row, String(entry.rank));
      cell(row, entry.participant, "participant");
      cell(row, number(entry.mean_reward), "number mean-reward");
      cell(row, number(entry.total_reward), "number total-reward");
      cell(row, String(entry.simulations), "number");
      cell(row, String(entry.submissions), "number");
      cell(row, when(entry.ended_at));
      cell(row, entry.engine, "engine");
      body.appendChild(row);
    }
    if (board.entries.length === 0) {
      const row = document.createElement("tr");
      cell(row, "No scored submission yet.");
      row.firstChild.colSpan = 8;
      body.appendChild(row);
    }
    const recentBody = document.querySelector("#recent tbody");
    recentBody.replaceChildren();
    for (const item of recent) {
      const row = document.createElement("tr");
      row.dataset.submission = String(item.id);
      cell(row, String(item.id));
      cell(row, item.participant, "participant");
      cell(row, item.status, "status status-" + item.status);
      cell(row, number(item.total_reward), "number");
      cell(row, item.simulations.length + " of " + item.simulation_count, "number");
      cell(row, item.reason || "");
      cell(row, item.engine, "engine");
      recentBody.appendChild(row);
    }
    document.getElementById("error").textContent = "";
    const state = document.getElementById("state");
    state.dataset.state = "loaded";
    state.textContent = "Updated " + new Date().toISOString().slice(11, 19) + " UTC";
  } catch (error) {
    document.getElementById("error").textContent = "Could not load the leaderboard: " + error.message;
    document.getElementById("state").dataset.state = "error";
  }
}

load();
setInterval(load, 30000);
</script>
</body>
</html>
"""
