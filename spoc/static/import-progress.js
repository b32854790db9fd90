// The import status page's bar, moved in place while the job runs. Without this file the page
// refreshes itself (a <noscript> refresh) and shows the same bar.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("import-job");
    if (!box || box.getAttribute("data-finished") === "yes") {
      return;
    }
    var bar = document.getElementById("import-progress");
    var text = document.getElementById("import-progress-text");
    var url = box.getAttribute("data-state-url");

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (state) {
          bar.max = state.max;
          bar.value = state.value;
          bar.textContent = state.text;
          text.textContent = state.text;
          if (state.finished) {
            window.location.reload();  // the outcome and the errors by line
          } else {
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 1000);
  });
})();
