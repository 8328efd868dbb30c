// Batch progress in the console: while the batch is being sent, fetch the counts every 3 seconds.
(function () {
  "use strict";
  var table = document.getElementById("batch-progress");
  if (!table || !table.dataset.pollUrl) { return; }
  var url = table.dataset.pollUrl;
  function update() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        Object.keys(data.counts).forEach(function (key) {
          var cell = table.querySelector('[data-count="' + key + '"]');
          if (cell) { cell.textContent = data.counts[key]; }
        });
        Object.keys(data.amounts).forEach(function (key) {
          var cell = table.querySelector('[data-amount="' + key + '"]');
          if (cell) { cell.textContent = data.amounts[key]; }
        });
        var status = document.getElementById("batch-status");
        if (status) { status.textContent = data.status_label; }
        if (data.status === "approved" || data.status === "sending") { window.setTimeout(update, 3000); }
      })
      .catch(function () { window.setTimeout(update, 10000); });
  }
  window.setTimeout(update, 3000);
})();
