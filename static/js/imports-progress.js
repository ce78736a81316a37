// The live progress panel of an import (templates/imports/_progress.html): steps, bar, counts,
// rate, ETA, then the outcome. Polls /imports/<id>/progress about twice a second.

// The steps, their order and their status texts come from the page (imports.views.STEPS).
const POLL_MS = 500;
const number = new Intl.NumberFormat();

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 1) return "< 1 s";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function part(panel, role) {
  return panel.querySelector(`[data-role="${role}"]`);
}

function field(panel, name, text) {
  const el = panel.querySelector(`[data-field="${name}"]`);
  if (el) el.textContent = text;
}

function steps(panel) {
  return [...panel.querySelectorAll(".steps li")];
}

// The status text for a step, as the page was rendered with it.
export function stepText(panel, step) {
  const li = steps(panel).find((item) => item.dataset.step === step);
  return li ? li.dataset.text : step;
}

export function setStep(panel, step, { failed = false } = {}) {
  const items = steps(panel);
  const index = items.findIndex((li) => li.dataset.step === step);
  items.forEach((li, i) => {
    li.classList.toggle("done", i < index || (step === "complete" && i === index));
    li.classList.toggle("current", i === index && !failed);
    li.classList.toggle("failed", i === index && failed);
    if (i === index) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  });
}

export function setBar(panel, percent) {
  const bar = panel.querySelector("progress");
  if (percent === null || percent === undefined) bar.removeAttribute("value");
  else bar.value = percent;
}

export function setStatusText(panel, text) {
  part(panel, "status").textContent = text;
}

export function outcomeText(state) {
  if (state.outcome) return state.outcome; // the server's sentence, the same as on the page
  const c = state.counts || {};
  if (state.status === "completed") {
    if (state.validate_only) {
      return `Validation complete: would create ${number.format(c.created)}, update ${number.format(c.updated)}, ` +
        `${number.format(c.unchanged)} unchanged, ${number.format(c.rows_rejected)} rejected. The catalogue was not changed.`;
    }
    return `Import complete: ${number.format(c.created)} created, ${number.format(c.updated)} updated, ` +
      `${number.format(c.unchanged)} unchanged, ${number.format(c.rows_rejected)} rejected`;
  }
  if (state.status === "cancelled") return state.error || "Import cancelled; the catalogue is unchanged.";
  return `Import failed: ${state.error || "unknown error"}`;
}

export function render(panel, state) {
  panel.dataset.status = state.status;
  const badge = document.querySelector('[data-role="badge"]');
  if (badge) {
    badge.className = `badge badge-${state.status}`;
    badge.textContent = state.status.charAt(0).toUpperCase() + state.status.slice(1);
  }
  const bar = part(panel, "bar");
  const stats = part(panel, "live-stats");
  const result = part(panel, "result");
  const error = part(panel, "error");
  const canChange = panel.dataset.canChange !== "false";
  part(panel, "cancel").hidden = !(canChange && !state.finished && !state.cancel_requested);
  part(panel, "retry").hidden = !(canChange && ["failed", "cancelled"].includes(state.status) && panel.dataset.canRetry !== "false");
  part(panel, "report").hidden = !state.report_url;
  if (state.report_url) part(panel, "report").href = state.report_url;

  part(panel, "eta-stat").hidden = Boolean(state.finished);
  if (!state.finished) {
    bar.hidden = false;
    stats.hidden = false;
    result.hidden = true;
    error.hidden = true;
    const step = state.status === "queued" ? "queued" : state.phase || "parsing";
    setStep(panel, step);
    // Loading and merging have no byte position: an indeterminate bar says "working" honestly.
    setBar(panel, ["queued", "loading", "merging"].includes(step) ? null : state.percent);
    let text = stepText(panel, step);
    // The merge names its steps ("building index 3 of 8"), so a long merge visibly moves.
    if (state.step && step !== "queued") text = `${text}: ${state.step}`;
    if (state.cancel_requested) text = `${text} (cancelling…)`;
    else if (step !== "queued") text = `${text}…`;
    setStatusText(panel, text);
    field(panel, "records", number.format(state.records_processed || 0));
    field(panel, "bytes", state.bytes_total ? `${formatBytes(state.bytes_processed)} of ${formatBytes(state.bytes_total)}` : formatBytes(state.bytes_processed));
    field(panel, "rate", state.rate ? `${number.format(Math.round(state.rate))} rows/s` : "–");
    field(panel, "eta", formatSeconds(state.eta_seconds));
    return;
  }
  if (state.status === "completed") {
    setStep(panel, "complete");
    setBar(panel, 100);
    bar.hidden = false;
    stats.hidden = false;
    setStatusText(panel, stepText(panel, "complete"));
    result.textContent = outcomeText(state);
    result.hidden = false;
    error.hidden = true;
  } else {
    // Failure shows the reason (and Retry) in place of the bar.
    setStep(panel, state.phase || "queued", { failed: true });
    bar.hidden = true;
    stats.hidden = true;
    setStatusText(panel, state.status === "cancelled" ? "Cancelled" : "Failed");
    error.textContent = outcomeText(state);
    error.hidden = false;
    result.hidden = true;
  }
  const c = state.counts || {};
  field(panel, "records", number.format(c.rows_read || 0));
  field(panel, "bytes", formatBytes(state.bytes_total));
  field(panel, "rate", state.rate ? `${number.format(Math.round(state.rate))} rows/s` : "–");
  field(panel, "eta", "–");
}

let followToken = 0;

// Poll the job until it finishes; resolves with the final state.
export async function follow(panel, { onFinish } = {}) {
  const token = ++followToken;
  const url = panel.dataset.progressUrl;
  let failures = 0;
  while (token === followToken) {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const state = await response.json();
      failures = 0;
      render(panel, state);
      if (state.finished) {
        if (onFinish) onFinish(state);
        return state;
      }
    } catch (err) {
      failures += 1;
      if (failures === 5) setStatusText(panel, `Lost contact with the server (${err.message}); still trying…`);
    }
    await new Promise((resolve) => setTimeout(resolve, failures ? Math.min(POLL_MS * 2 ** failures, 5000) : POLL_MS));
  }
  return null;
}
