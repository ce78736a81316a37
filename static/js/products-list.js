// Products list: inline active toggle, delete dialogs, delete-all with busy feedback.
import { getCsrfToken, showToast } from "./app.js";

async function postForm(form) {
  const response = await fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { Accept: "application/json", "X-CSRFToken": getCsrfToken() },
    credentials: "same-origin",
  });
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = { message: `The server answered ${response.status}.` };
  }
  return { ok: response.ok, data };
}

// Toggle active without leaving the page; the plain POST form still works without JS.
document.querySelectorAll("form.toggle-active").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    try {
      const { ok, data } = await postForm(form);
      if (!ok) throw new Error(data.message || "Could not change the status.");
      const badge = form.querySelector(".badge");
      const sku = form.closest("tr").querySelector("td.mono").textContent;
      badge.textContent = data.active ? "Active" : "Inactive";
      badge.className = `badge ${data.active ? "badge-active" : "badge-inactive"}`;
      form.querySelector("input[name=active]").value = data.active ? "false" : "true";
      button.textContent = data.active ? "Deactivate" : "Activate";
      button.setAttribute("aria-label", `${button.textContent} ${sku}`);
      showToast(data.message, "success");
    } catch (error) {
      showToast(error.message || "Could not change the status.", "error");
    } finally {
      button.removeAttribute("aria-busy");
      button.disabled = false;
    }
  });
});

// One delete dialog for all rows: the clicked row fills in what will be deleted.
document.querySelectorAll("[data-delete-url]").forEach((link) => {
  link.addEventListener("click", () => {
    document.getElementById("delete-form").action = link.dataset.deleteUrl;
    document.getElementById("delete-dialog-label").textContent = link.dataset.deleteLabel;
  });
});

// Delete all: show progress at once, report the outcome as a toast, then reload the list.
const deleteAllForm = document.getElementById("delete-all-form");
deleteAllForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = deleteAllForm.querySelector("button[type=submit]");
  const cancel = deleteAllForm.querySelector("[data-close]");
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  cancel.disabled = true;
  button.textContent = "Deleting…";
  try {
    const { ok, data } = await postForm(deleteAllForm);
    if (!ok) throw new Error(data.message || "Delete all failed.");
    deleteAllForm.closest("dialog").close();
    showToast(data.message, "success");
    document.querySelector(".products-table tbody")?.replaceChildren();
    setTimeout(() => window.location.assign(window.location.pathname), 1200);
  } catch (error) {
    showToast(error.message || "Delete all failed.", "error");
    button.textContent = "Delete all products";
    button.disabled = false;
    cancel.disabled = false;
  } finally {
    button.removeAttribute("aria-busy");
  }
});
