/* Console progress pages (selection runs): poll the element's data-progress-url (JSON with
   "progress" 0-100 and "done"), move the <progress> bar, reload the page when done. */
(function () {
  var box = document.querySelector("[data-progress-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var poll = function () {
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
      if (d.done) { window.location.reload(); return; }
      var bar = box.querySelector("progress");
      if (bar) { bar.value = d.progress; }
      window.setTimeout(poll, 1500);
    }).catch(function () { window.setTimeout(poll, 5000); });
  };
  window.setTimeout(poll, 1500);
})();
