/* Evaluation survey: save each answer as it is given. Without this script the form's buttons save. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave-url]");
  if (!form || !window.fetch) { return; }
  var url = form.dataset.autosaveUrl;
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var status = document.querySelector("[data-save-status]");
  var bar = document.querySelector("[data-progress] progress");
  var text = document.querySelector("[data-progress-text]");
  var pending = {};
  // One save at a time, in the order the answers were given: each reply's progress then counts every
  // answer before it (replies of saves sent side by side could arrive out of order and show an older count).
  var queue = Promise.resolve();

  function show(message) { if (status) { status.textContent = message; } }

  function save(fieldset) {
    queue = queue.then(function () { return send(fieldset); });
  }

  function send(fieldset) {
    var id = fieldset.dataset.question;
    var kind = fieldset.dataset.kind;
    var body = new URLSearchParams();
    body.append("question", id);
    var inputs = fieldset.querySelectorAll("input");
    if (kind === "multiple") {
      body.append("multiple", "1");
      inputs.forEach(function (input) { if (input.checked) { body.append("value", input.value); } });
    } else if (kind === "single" || kind === "scale") {
      inputs.forEach(function (input) { if (input.checked) { body.append("value", input.value); } });
    } else {
      body.append("value", inputs[0].value);
    }
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "X-Requested-With": "fetch" },
      body: body
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      var error = fieldset.querySelector(".errorlist");
      if (result.ok) {
        fieldset.classList.remove("has-error");
        if (error) { error.remove(); }
        if (bar) { bar.max = result.data.total; bar.value = result.data.answered; }
        if (text) {
          text.textContent = form.dataset.progressTemplate
            .replace("__a__", result.data.answered).replace("__t__", result.data.total);
        }
        show(form.dataset.savedText);
      } else {
        fieldset.classList.add("has-error");
        if (!error) {
          error = document.createElement("p");
          error.className = "errorlist";
          error.setAttribute("role", "alert");
          fieldset.insertBefore(error, fieldset.children[1] || null);
        }
        error.textContent = result.data.message;
        show("");
      }
    }).catch(function () {
      // Offline or the server is away: the answer stays on the page and the buttons still post it.
      show(form.dataset.failedText);
    });
  }

  form.addEventListener("change", function (event) {
    var fieldset = event.target.closest("fieldset[data-question]");
    if (fieldset) { save(fieldset); }
  });
  form.addEventListener("input", function (event) {
    var fieldset = event.target.closest("fieldset[data-question]");
    if (!fieldset || event.target.type !== "text") { return; }
    var id = fieldset.dataset.question;
    clearTimeout(pending[id]);
    pending[id] = setTimeout(function () { save(fieldset); }, 800);
  });
})();
