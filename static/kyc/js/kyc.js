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

  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    var progress = form.querySelector("[data-kyc-progress]");
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
  });
})();
