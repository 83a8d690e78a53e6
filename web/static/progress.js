// Live progress of a scan batch: polls the batch's JSON every two seconds until complete.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !window.fetch) { return; }
  var bar = document.getElementById("progress-bar");
  function update() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        box.querySelectorAll("[data-field]").forEach(function (el) {
          el.textContent = p[el.dataset.field];
        });
        bar.max = p.total || 1;
        bar.value = p.ready + p.failed + p.quarantined;
        if (p.complete) { document.getElementById("complete").hidden = false; }
        else { window.setTimeout(update, 2000); }
      })
      .catch(function () { window.setTimeout(update, 5000); });
  }
  window.setTimeout(update, 1000);
})();
