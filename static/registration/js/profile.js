/* Profile form: a live digit counter under the NIK and KK boxes. Works without it. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  ["id_nik", "id_kk_number"].forEach(function (id) {
    var input = document.getElementById(id);
    if (!input || input.disabled) { return; }
    var counter = document.createElement("span");
    counter.className = "digit-count";
    counter.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", counter);
    var template = input.closest("form").dataset.digitTemplate || "{n}/16";
    var update = function () {
      var digits = input.value.replace(/\D/g, "").length;
      counter.textContent = template.replace("{n}", digits);
      counter.classList.toggle("complete", digits === 16);
      counter.classList.toggle("too-long", digits > 16);
    };
    input.addEventListener("input", update);
    update();
  });
})();
