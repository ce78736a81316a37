// A job's page: follow its progress live while it is queued or running.
import { follow, render } from "./imports-progress.js";

const panel = document.getElementById("import-progress");
if (panel && ["queued", "running"].includes(panel.dataset.status)) {
  // Reload once it finishes, so the counts and durations rendered by the server appear.
  follow(panel, { onFinish: () => setTimeout(() => window.location.reload(), 1500) });
} else if (panel) {
  fetch(panel.dataset.progressUrl, { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : null))
    .then((state) => state && render(panel, state))
    .catch(() => {});
}
