// The upload page: send the file with XHR (so upload progress is visible), then follow the job.
import { getCsrfToken, showToast } from "./app.js";
import { follow, formatBytes, setBar, setStatusText, setStep, stepText } from "./imports-progress.js";
import { setupPreview } from "./imports-preview.js";

const form = document.getElementById("upload-form");
const panel = document.getElementById("import-progress");
const submit = form.querySelector('[data-role="submit"]');
const maxBytes = Number(form.dataset.maxBytes);
setupPreview(form);

function clearErrors() {
  form.querySelectorAll("[data-errors-for]").forEach((box) => { box.textContent = ""; });
  form.querySelectorAll(".field-error").forEach((el) => el.classList.remove("field-error"));
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

function showErrors(errors) {
  let first = null;
  for (const [name, list] of Object.entries(errors)) {
    const box = form.querySelector(`[data-errors-for="${name}"]`);
    const text = list.map((e) => e.message).join(" ");
    if (box) {
      const ul = document.createElement("ul");
      ul.className = "errorlist";
      const li = document.createElement("li");
      li.textContent = text;
      ul.append(li);
      box.replaceChildren(ul);
      box.closest(".field")?.classList.add("field-error");
      const input = form.elements[name];
      if (input) input.setAttribute("aria-invalid", "true");
      first ??= input;
    } else {
      showToast(text, "error");
    }
  }
  first?.focus();
}

function busy(on) {
  submit.disabled = on;
  submit.setAttribute("aria-busy", on ? "true" : "false");
}

function pointPanelAt(links) {
  panel.dataset.jobUrl = links.url;
  panel.dataset.progressUrl = links.progress_url;
  panel.querySelector('[data-role="cancel"]').action = links.cancel_url;
  panel.querySelector('[data-role="retry"]').action = links.retry_url;
  panel.querySelector('[data-role="report"]').href = links.report_url;
  panel.querySelector('[data-role="job-link"]').href = links.url;
}

function resetPanel() {
  panel.hidden = false;
  panel.querySelector('[data-role="bar"]').hidden = false;
  panel.querySelector('[data-role="live-stats"]').hidden = false;
  panel.querySelector('[data-role="result"]').hidden = true;
  panel.querySelector('[data-role="error"]').hidden = true;
  panel.querySelector('[data-role="cancel"]').hidden = true;
  panel.querySelector('[data-role="retry"]').hidden = true;
  panel.querySelector('[data-role="report"]').hidden = true;
  panel.querySelectorAll("[data-field]").forEach((el) => { el.textContent = "–"; });
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearErrors();
  const file = form.elements.file.files[0];
  if (!file) {
    showErrors({ file: [{ message: "Choose a CSV file to import." }] });
    return;
  }
  if (file.size > maxBytes) {
    showErrors({ file: [{ message: `The file is ${formatBytes(file.size)}; the upload limit is ${formatBytes(maxBytes)}.` }] });
    return;
  }
  busy(true);
  resetPanel();
  setStep(panel, "uploading");
  setBar(panel, 0);
  setStatusText(panel, `Uploading ${file.name}…`);
  panel.scrollIntoView({ behavior: "smooth", block: "nearest" });

  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action || window.location.href);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.setRequestHeader("X-CSRFToken", getCsrfToken());
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    const percent = (100 * e.loaded) / e.total;
    setBar(panel, percent);
    setStatusText(panel, `Uploading ${file.name}: ${formatBytes(e.loaded)} of ${formatBytes(e.total)} (${Math.floor(percent)}%)`);
  };
  xhr.onerror = () => {
    busy(false);
    panel.hidden = true;
    showToast("The upload failed: the connection to the server was lost. Try again.", "error");
  };
  xhr.onload = () => {
    busy(false);
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { body = null; }
    if (xhr.status === 201 && body) {
      form.reset();
      pointPanelAt(body);
      setStep(panel, "queued");
      setBar(panel, null);
      setStatusText(panel, stepText(panel, "queued"));
      follow(panel);
      return;
    }
    panel.hidden = true;
    // 413 carries the server's message (the size and the limit) when it could send one.
    if ((xhr.status === 400 || xhr.status === 413) && body?.errors) {
      showErrors(body.errors);
    } else if (xhr.status === 403) {
      showToast("You do not have permission to import products.", "error");
    } else if (xhr.status === 413) {
      showErrors({ file: [{ message: `The file is larger than the server accepts (${formatBytes(maxBytes)}).` }] });
    } else {
      showToast(`The upload failed (HTTP ${xhr.status}). Try again.`, "error");
    }
  };
  xhr.send(new FormData(form));
});
