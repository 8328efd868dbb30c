/* Prakerja Portal: small progressive enhancements. Everything works without it. */
(function () {
  "use strict";

  // Phone menu: the toggle shows and hides the navigation.
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Move focus to the error summary so screen readers announce it.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }

  // Dashboard: while a step is in progress, poll the timeline fragment and
  // swap it in when something changed. Stops by itself when nothing is pending.
  var body = document.getElementById("dashboard-body");
  if (body && body.dataset.pollUrl) {
    var url = body.dataset.pollUrl;
    var delay = 3000;
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) { delay = Math.min(delay * 2, 30000); return schedule(); }
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var state = holder.querySelector(".dashboard-state");
          var current = body.querySelector(".dashboard-state");
          if (state && current && state.dataset.fingerprint !== current.dataset.fingerprint) {
            current.replaceWith(state);
          }
          if (state && state.dataset.polls === "1") { schedule(); }
        })
        .catch(function () { delay = Math.min(delay * 2, 30000); schedule(); });
    };
    var schedule = function () { window.setTimeout(poll, delay); };
    schedule();
  }

  // Dependent selects: <select data-depends-on="id_province" data-options-url="/wilayah/kabupaten/?parent=">
  document.querySelectorAll("select[data-options-url]").forEach(function (select) {
    var parent = document.getElementById(select.dataset.dependsOn);
    if (!parent) { return; }
    parent.addEventListener("change", function () {
      var placeholder = select.options.length ? select.options[0].text : "";
      select.innerHTML = "";
      select.add(new Option(placeholder, ""));
      select.dispatchEvent(new Event("change"));
      if (!parent.value) { return; }
      fetch(select.dataset.optionsUrl + encodeURIComponent(parent.value), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          data.results.forEach(function (item) { select.add(new Option(item.name, item.code)); });
        });
    });
  });
})();
