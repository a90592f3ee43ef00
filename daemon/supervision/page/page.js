// The status page: polls /status every two seconds and redraws; no library, nothing from the internet.
"use strict";

const POLL_MS = 2000;
const SILENT_DBFS_DEFAULT = -80;
const $ = (id) => document.getElementById(id);

function text(id, value) { $(id).textContent = value; }

const esc = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function clock(iso) { return iso ? iso.replace("T", " ").slice(0, 16) : ""; }

function spark(values) {
  const shown = values.filter((v) => v !== null && Number.isFinite(v));
  if (shown.length < 2) return "<svg></svg>";
  const low = Math.min(...shown), high = Math.max(...shown), span = high - low || 1;
  const points = values.map((v, k) => v === null ? null :
    `${(100 * k / (values.length - 1)).toFixed(1)},${(22 - 20 * (v - low) / span).toFixed(1)}`).filter(Boolean);
  return `<svg viewBox="0 0 100 24" preserveAspectRatio="none"><polyline points="${points.join(" ")}"/></svg>`;
}

function draw(status) {
  text("name", status.installation);
  const health = $("health");
  health.textContent = status.healthy ? "healthy" : "needs a look";
  health.className = "health " + (status.healthy ? "ok" : "bad");
  const plan = status.schedule || {};
  text("open", plan.open ? `open until ${clock(plan.closes_at) || "further notice"} (${plan.timezone})`
                         : `closed until ${clock(plan.opens_at) || "no opening within 8 days"} (${plan.timezone})`);
  text("playing", plan.playing ? `playing ${plan.playing} until ${clock(plan.playing_until)}` +
       (status.paused ? " (paused)" : "") + (status.override ? ` (override by ${status.override.by})` : "") : "nothing plays");
  text("next", plan.next ? `next: ${plan.next.preset} at ${clock(plan.next.at)}` : "");
  text("problems", (status.problems || []).join(" · "));

  const run = status.run || {};
  $("run").dataset.preset = run.preset || "";
  text("run", run.preset ? `${run.preset} — step ${run.step ?? 0}${steps(run)} — ${run.run_id}` : "no run");
  $("progress").value = (status.streams || {}).progress || 0;
  const history = status.history || {};
  $("sparks").innerHTML = Object.entries(history.streams || {}).map(([name, values]) => {
    const last = values[values.length - 1];
    return `<span>${esc(name)}</span>${spark(values)}<span>${last === null || last === undefined ? "" : Number(last).toPrecision(3)}</span>`;
  }).join("");

  if (run.run_id) $("grid").src = `grid.png?run=${encodeURIComponent(run.run_id)}&step=${run.step ?? 0}`;

  const sound = ((status.children || {}).sound || {}).heartbeat || {};
  const levels = sound.levels_dbfs || [];
  const floor = (status.watch || {}).silence_floor_dbfs ?? SILENT_DBFS_DEFAULT;
  $("meters").innerHTML = levels.map((db, k) => {
    const height = Math.max(0, Math.min(100, (db + 90) / 90 * 100));
    return `<div class="meter${db < floor ? " silent" : ""}" data-speaker="${k + 1}" data-dbfs="${esc(db)}">` +
      `<div class="well"><div class="level" style="height:${height.toFixed(1)}%"></div></div>` +
      `<span>${k + 1}</span><span>${Number(db).toFixed(0)}</span></div>`;
  }).join("");
  text("xruns", "underflows" in sound ? `xruns since the sound started: ${sound.underflows}` : "no sound heartbeat");

  const image = ((status.children || {}).image || {}).heartbeat || {};
  const frozen = new Set((status.watch || {}).frozen_projectors || []);
  $("projectors").innerHTML = Object.entries(image.pictures || {}).map(([index, picture]) =>
    `<figure class="projector${frozen.has(index) ? " frozen" : ""}" data-projector="${esc(index)}" data-change="${esc(picture.change)}">` +
    `<img alt="projector ${esc(index)}" src="data:image/jpeg;base64,${esc(picture.thumbnail_jpeg)}">` +
    `<p>projector ${esc(index)} · ${esc(picture.fps)} fps</p></figure>`).join("");

  $("children").tBodies[0].innerHTML = Object.entries(status.children || {}).map(([role, child]) =>
    `<tr data-role="${esc(role)}"><td>${esc(role)}</td><td class="${esc(child.state)}">${esc(child.state)}</td><td>${esc(child.restarts)}</td></tr>`).join("");
  $("log").innerHTML = (status.log || []).slice().reverse().map((entry) =>
    `<li class="${esc(entry.level)}">${esc(clock(entry.time))} ${esc(entry.event)}${entry.role ? " " + esc(entry.role) : ""}</li>`).join("");
  text("updated", `updated ${new Date().toLocaleTimeString()}`);
}

async function poll() {
  try {
    const reply = await fetch("status", { cache: "no-store", credentials: "same-origin" });
    if (!reply.ok) throw new Error(`HTTP ${reply.status}`);
    draw(await reply.json());
  } catch (error) {
    const health = $("health");
    health.textContent = `no answer from the installation (${error.message}); trying again`;
    health.className = "health bad";
  }
  setTimeout(poll, POLL_MS);
}

poll();

// " of 650 (fitted: 2000 asked, 2.9 of 8.3 steps/s)": the plan against what the machine measures.
function steps(run) {
  const pace = run.pace;
  if (!run.steps_total) return "";
  if (!pace || !pace.fitted) return ` of ${run.steps_total}`;
  const rate = (value) => (typeof value === "number" ? value.toFixed(1) : "?");
  const asked = rate(pace.preset_steps / pace.seconds);
  return ` of ${run.steps_total} (fitted: ${pace.preset_steps} asked, ${rate(pace.measured_steps_per_second)} of ${asked} steps/s)`;
}
