/* KYC upload: preview the chosen photos, warn about too-large files before sending,
   and show that the upload is under way. The form works without it. */
(function () {
  "use strict";
  var form = document.querySelector("[data-kyc-form]");
  if (!form) { return; }
  var maxBytes = parseInt(form.dataset.maxBytes || "0", 10);

  form.querySelectorAll("input[data-photo-input]").forEach(function (input) {
    var preview = form.querySelector('[data-preview-for="' + input.name + '"]');
    var warning = document.createElement("p");
    warning.className = "errorlist kyc-warning";
    warning.setAttribute("role", "alert");
    warning.hidden = true;
    input.insertAdjacentElement("afterend", warning);
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      warning.hidden = true;
      if (preview) { preview.hidden = true; }
      if (!file) { return; }
      if (maxBytes && file.size > maxBytes) {
        warning.textContent = form.dataset.tooLarge;
        warning.hidden = false;
        input.value = "";
        return;
      }
      if (preview && /^image\/(jpeg|png|webp)$/.test(file.type)) {
        if (preview.src) { URL.revokeObjectURL(preview.src); }
        preview.src = URL.createObjectURL(file);
        preview.hidden = false;
      }
    });
  });

  // Under a surge the portal answers 429 with Retry-After (prakerja/admission.py). The photos cannot
  // travel in a waiting page, so the form sends itself and, while it has to wait, keeps the chosen
  // files here and sends the same ones again after the pause. The upload answers with a redirect to
  // the dashboard (not followed here, so its "photos received" message is shown there); any other
  // answer (a photo refused) is asked for again the ordinary way, which changes nothing twice.
  var sendNative = false;
  function sendKeepingPhotos(progress) {
    window.fetch(form.action || window.location.href, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      redirect: "manual"
    }).then(function (response) {
      if (response.status === 429) {
        var seconds = parseInt(response.headers.get("Retry-After") || "10", 10) || 10;
        if (progress && progress.dataset.waiting) {
          progress.textContent = progress.dataset.waiting.replace("%(seconds)s", String(seconds));
        }
        window.setTimeout(function () { sendKeepingPhotos(progress); }, seconds * 1000);
      } else if (response.type === "opaqueredirect" && form.dataset.doneUrl) {
        window.location.assign(form.dataset.doneUrl);
      } else {
        sendNative = true;
        form.submit();
      }
    }).catch(function () {
      sendNative = true;
      form.submit();
    });
  }

  function onSubmit(event) {
    var button = form.querySelector("button[type=submit]");
    var progress = form.querySelector("[data-kyc-progress]");
    if (!sendNative && window.fetch && window.FormData) {
      event.preventDefault();
      sendKeepingPhotos(progress);
    }
    if (progress) {
      // A live region: screen readers announce what is happening while the upload runs.
      progress.textContent = progress.dataset.text;
      progress.classList.add("is-active");
    }
    if (button && button.dataset.sending) {
      window.setTimeout(function () {
        button.disabled = true;
        button.textContent = button.dataset.sending;
      }, 0);
    }
  }
  form.addEventListener("submit", onSubmit);
})();
