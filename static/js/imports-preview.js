// The upload page's preview: once a CSV is chosen, send its first block (no more) to the
// preview endpoint, then show how it will be read (encoding, delimiter), its first records
// and the column each catalogue field takes, as selects the user can change. The choices go
// into the form's hidden `mapping` field, so the import runs with what the preview showed.
import { getCsrfToken } from "./app.js";

const NOT_IMPORTED = "";

export function setupPreview(form) {
  const section = document.getElementById("import-preview");
  const status = section.querySelector('[data-role="preview-status"]');
  const problems = section.querySelector('[data-role="preview-problems"]');
  const mappingBox = section.querySelector('[data-role="mapping"]');
  const suggestion = section.querySelector('[data-role="preview-source"]');
  const head = section.querySelector('[data-role="preview-head"]');
  const body = section.querySelector('[data-role="preview-body"]');
  const fileInput = form.elements.file;
  const mappingInput = form.elements.mapping;
  const url = form.dataset.previewUrl;
  const previewBytes = Number(form.dataset.previewBytes);
  // Fields whose column the user chose (sent with each preview); others are suggested.
  let chosen = {};
  let request = 0;

  function isWorkbook(file) {
    return /\.xlsx$/i.test(file.name);
  }

  function clear() {
    section.hidden = true;
    mappingInput.value = "";
    chosen = {};
  }

  function showProblems(list) {
    problems.hidden = list.length === 0;
    problems.textContent = list.join(" ");
  }

  async function run() {
    const file = fileInput.files[0];
    const errors = form.querySelector('[data-errors-for="file"]');
    if (!file || isWorkbook(file)) {
      clear();
      return;
    }
    const mine = ++request;
    section.hidden = false;
    status.textContent = `Reading the start of ${file.name}…`;
    const data = new FormData();
    data.append("file", new File([file.slice(0, previewBytes)], file.name, { type: file.type }));
    data.append("encoding", form.elements.encoding.value);
    data.append("delimiter", form.elements.delimiter.value);
    data.append("mapping", JSON.stringify(chosen));
    if (form.elements.source) data.append("source", form.elements.source.value);
    let response;
    let answer = null;
    try {
      response = await fetch(url, {
        method: "POST",
        body: data,
        headers: { Accept: "application/json", "X-CSRFToken": getCsrfToken() },
        credentials: "same-origin",
      });
      answer = await response.json();
    } catch {
      if (mine === request) status.textContent = "The preview could not be loaded; the file can still be imported.";
      return;
    }
    if (mine !== request) return; // a newer preview is on its way
    if (!response.ok) {
      const fileErrors = answer?.errors?.file;
      const mappingErrors = answer?.errors?.mapping;
      if (mappingErrors) {
        showProblems(mappingErrors.map((e) => e.message));
        status.textContent = "Choose a column for each required field.";
        return;
      }
      section.hidden = true;
      if (fileErrors && errors) {
        errors.replaceChildren(errorList(fileErrors.map((e) => e.message).join(" ")));
        errors.closest(".field")?.classList.add("field-error");
      }
      return;
    }
    errors?.replaceChildren();
    errors?.closest(".field")?.classList.remove("field-error");
    render(answer);
  }

  function render(preview) {
    const read = `${preview.encoding_label}${preview.encoding_detected ? " (detected)" : ""}`;
    const split = `${preview.delimiter_label.toLowerCase()}-separated${preview.delimiter_detected ? " (detected)" : ""}`;
    const rows = preview.rows.length;
    status.textContent = `Read as ${read}, ${split}. ${rows === 1 ? "The first record" : `The first ${rows} records`} of the file, as they will be imported.`;
    showProblems(preview.problems);
    renderSuggestion(preview.suggested_source);
    renderMapping(preview);
    renderTable(preview);
    syncMapping();
  }

  function renderMapping(preview) {
    const selects = preview.catalogue_fields.map((field) => {
      const id = `map-${field.name}`;
      const wrap = document.createElement("div");
      wrap.className = "field";
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = field.name;
      if (field.required) {
        const required = document.createElement("span");
        required.className = "muted";
        required.textContent = " (required)";
        label.append(required);
      }
      const select = document.createElement("select");
      select.id = id;
      select.dataset.field = field.name;
      select.required = field.required;
      const none = new Option(field.required ? "— choose a column —" : "— not imported —", NOT_IMPORTED);
      select.append(none, ...preview.header.map((column) => new Option(column, column)));
      select.value = preview.mapping[field.name] ?? NOT_IMPORTED;
      const help = document.createElement("span");
      help.className = "help";
      help.id = `${id}-help`;
      help.textContent = field.required ? "Required: a record with it empty is rejected." : `Not imported: ${field.if_missing}.`;
      select.setAttribute("aria-describedby", help.id);
      select.addEventListener("change", () => {
        chosen[field.name] = select.value === NOT_IMPORTED ? null : select.value;
        syncMapping();
        run();
      });
      wrap.append(label, select, help);
      return wrap;
    });
    mappingBox.replaceChildren(...selects);
  }

  // A saved source made for files with this header: offered, chosen by one click.
  function renderSuggestion(suggested) {
    const select = form.elements.source;
    suggestion.hidden = !suggested || !select;
    if (suggestion.hidden) return;
    suggestion.querySelector('[data-role="source-name"]').textContent = suggested.name;
    suggestion.querySelector("button").onclick = () => {
      select.value = String(suggested.id);
      chosen = {};
      run();
    };
  }

  // The import takes what the selects show, even before the next preview answers. A
  // required field without a column is left to the import, which fails naming it (as the
  // preview's problems already do).
  function syncMapping() {
    const mapping = {};
    for (const select of mappingBox.querySelectorAll("select[data-field]")) {
      if (select.value !== NOT_IMPORTED) mapping[select.dataset.field] = select.value;
      else if (!select.required) mapping[select.dataset.field] = null;
    }
    mappingInput.value = JSON.stringify(mapping);
  }

  function renderTable(preview) {
    const fieldOf = {};
    for (const [field, column] of Object.entries(preview.mapping)) {
      if (column !== null) fieldOf[column] = field;
    }
    const headRow = document.createElement("tr");
    const numberHead = th("#");
    numberHead.className = "num";
    headRow.append(numberHead);
    for (const column of preview.header) {
      const cell = th(column);
      const field = fieldOf[column];
      const tag = document.createElement("span");
      tag.className = field ? "badge badge-success" : "badge badge-queued";
      tag.textContent = field ? `→ ${field}` : "ignored";
      cell.append(document.createElement("br"), tag);
      headRow.append(cell);
    }
    headRow.append(th("Check"));
    head.replaceChildren(headRow);
    const rows = preview.rows.map((fields, index) => {
      const tr = document.createElement("tr");
      const number = td(String(index + 1));
      number.className = "num";
      tr.append(number, ...preview.header.map((_, i) => td(fields[i] ?? "", "clip")));
      const reason = preview.rejections[index];
      const check = td("");
      if (preview.problems.length) {
        check.textContent = "–"; // not checked until each required field has a column
      } else {
        const badge = document.createElement("span");
        badge.className = reason ? "badge badge-error" : "badge badge-success";
        badge.textContent = reason ? `rejected: ${reason}` : "ok";
        check.append(badge);
      }
      tr.append(check);
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const empty = td("The file has a header but no records yet in its first block.", "empty");
      empty.colSpan = preview.header.length + 2;
      tr.append(empty);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  }

  fileInput.addEventListener("change", () => {
    chosen = {};
    run();
  });
  form.elements.encoding.addEventListener("change", run);
  form.elements.delimiter.addEventListener("change", run);
  form.elements.source?.addEventListener("change", () => {
    chosen = {};
    run();
  });
  form.addEventListener("reset", clear);
}

function th(text) {
  const cell = document.createElement("th");
  cell.scope = "col";
  cell.textContent = text;
  return cell;
}

function td(text, className = "") {
  const cell = document.createElement("td");
  cell.textContent = text;
  if (className) cell.className = className;
  return cell;
}

function errorList(text) {
  const ul = document.createElement("ul");
  ul.className = "errorlist";
  const li = document.createElement("li");
  li.textContent = text;
  ul.append(li);
  return ul;
}
