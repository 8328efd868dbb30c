/* Console export page: the "Select all" box ticks or clears every field box of the export.
   (django-import-export wires this with an onchange attribute, which the CSP refuses.) */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".select-toggle").forEach(function (toggle) {
    toggle.addEventListener("change", function () {
      document.querySelectorAll('.selectable-field-export-row input[type="checkbox"]').forEach(function (box) {
        if (box !== toggle) { box.checked = toggle.checked; }
      });
    });
  });
});
