// Site-wide behaviour: toasts, confirmation dialogs. Page-specific modules live next to this file.

export function showToast(text, level = "success") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const toast = document.createElement("div");
  toast.className = `toast toast-${level}`;
  toast.setAttribute("role", level === "error" ? "alert" : "status");
  toast.dataset.autohide = level === "error" ? "false" : "true";
  const span = document.createElement("span");
  span.textContent = text;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  toast.append(span, close);
  box.append(toast);
  wireToast(toast);
}

function wireToast(toast) {
  toast.querySelector(".toast-close")?.addEventListener("click", () => toast.remove());
  if (toast.dataset.autohide === "true") {
    setTimeout(() => toast.classList.add("toast-hide"), 5000);
    setTimeout(() => toast.remove(), 5600);
  }
}

export function getCsrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// <button data-dialog="id"> opens <dialog id="id">; focus returns to the button on close.
function wireDialogs() {
  document.querySelectorAll("[data-dialog]").forEach((opener) => {
    opener.addEventListener("click", (event) => {
      const dialog = document.getElementById(opener.dataset.dialog);
      if (!dialog) return;
      event.preventDefault();
      dialog.showModal();
      dialog.addEventListener("close", () => opener.focus(), { once: true });
    });
  });
  document.querySelectorAll("dialog [data-close]").forEach((button) => {
    button.addEventListener("click", () => button.closest("dialog").close());
  });
  // A dialog whose confirm button needs typed text ("DELETE" or a count).
  document.querySelectorAll("dialog [data-confirm-text]").forEach((input) => {
    const form = input.closest("form");
    const submit = form.querySelector("[type=submit]");
    const check = () => {
      submit.disabled = input.value.trim() !== input.dataset.confirmText;
    };
    input.addEventListener("input", check);
    check();
  });
}

// A page-size <select data-autosubmit> submits its form when changed.
function wireAutosubmit() {
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
}

document.querySelectorAll(".toast").forEach(wireToast);
wireDialogs();
wireAutosubmit();
