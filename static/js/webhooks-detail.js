// Endpoint page: "Send test" queues a delivery that the worker sends; this polls its status
// and shows the response code and time (never the body). Also the secret's Show/Copy buttons.
import { getCsrfToken, showToast } from "./app.js";

const POLL_MS = 400;
const GIVE_UP_MS = 60_000;

const form = document.getElementById("test-form");
const button = document.getElementById("send-test");
const result = document.getElementById("test-result");

function badge(text, kind) {
  const span = document.createElement("span");
  span.className = `badge badge-${kind}`;
  span.textContent = text;
  return span;
}

function render(delivery) {
  result.hidden = false;
  result.replaceChildren();
  if (!delivery.final) {
    result.append(badge(delivery.status === "sending" ? "Sending test…" : "Test queued…", "running"));
    if (delivery.next_attempt_at && delivery.status === "queued" && new Date(delivery.next_attempt_at) > new Date()) {
      result.append(" waiting for the rate limit's next minute");
    }
    return;
  }
  result.append("Test result: ");
  const ok = delivery.status === "succeeded";
  const label = delivery.status_code ? `HTTP ${delivery.status_code}` : "Failed";
  result.append(badge(label, ok ? "completed" : "failed"));
  if (delivery.duration_ms !== null) {
    const time = document.createElement("span");
    time.className = "test-duration";
    time.textContent = ` ${delivery.duration_ms} ms`;
    result.append(time);
  }
  if (delivery.error) {
    const error = document.createElement("span");
    error.className = "muted";
    error.textContent = ` ${delivery.error}`;
    result.append(error);
  }
}

async function poll(url) {
  const started = Date.now();
  while (Date.now() - started < GIVE_UP_MS) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`status check failed (${response.status})`);
    const delivery = await response.json();
    render(delivery);
    if (delivery.final) return delivery;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error("no result after a minute: is a worker running?");
}

async function sendTest(event) {
  event.preventDefault();
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": getCsrfToken() },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`could not queue the test (${response.status})`);
    const delivery = await response.json();
    render(delivery);
    await poll(delivery.status_url);
  } catch (error) {
    showToast(`Test delivery: ${error.message}`, "error");
  } finally {
    button.removeAttribute("aria-busy");
    button.disabled = false;
  }
}

form?.addEventListener("submit", sendTest);
// A test queued without JS (or before a reload) is still followed.
if (result?.dataset.statusUrl) poll(result.dataset.statusUrl).catch(() => {});

const secret = document.getElementById("secret");
const toggle = document.getElementById("secret-toggle");
toggle?.addEventListener("click", () => {
  const hidden = secret.type === "password";
  secret.type = hidden ? "text" : "password";
  toggle.textContent = hidden ? "Hide" : "Show";
});
document.getElementById("secret-copy")?.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(secret.value);
    showToast("Secret copied.");
  } catch {
    secret.type = "text";
    secret.select();
    showToast("Select and copy the secret (clipboard not available).", "warning");
  }
});
