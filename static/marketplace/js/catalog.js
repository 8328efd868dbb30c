/* Training catalog: submit on sort change; for "nearest", ask the browser for the
   location first (rounded to about 1 km before it leaves the phone). Everything
   works without this script through the Search / Apply buttons. */
(function () {
  "use strict";
  var form = document.querySelector("[data-catalog-form]");
  if (!form) { return; }
  var sort = form.querySelector("select[name=sort]");
  var lat = form.querySelector("input[name=lat]");
  var lng = form.querySelector("input[name=lng]");
  var submitting = false;

  // Leave empty fields out of the address, so a shared link reads ?q=excel&sort=price_asc
  // rather than listing every filter. They come back when the page is shown again (back button).
  var dropEmpty = function () {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.value === "" && !field.disabled) {
        field.disabled = true;
        field.setAttribute("data-dropped", "");
      }
    });
  };
  window.addEventListener("pageshow", function () {
    submitting = false;
    form.removeAttribute("aria-busy");
    form.querySelectorAll("[data-dropped]").forEach(function (field) {
      field.disabled = false;
      field.removeAttribute("data-dropped");
    });
  });
  form.addEventListener("submit", dropEmpty);

  var submit = function () {
    if (submitting) { return; }
    submitting = true;
    form.setAttribute("aria-busy", "true");
    dropEmpty();
    form.submit();
  };

  if (sort) {
    sort.addEventListener("change", function () {
      if (sort.value !== "distance") {
        if (lat) { lat.value = ""; }
        if (lng) { lng.value = ""; }
        submit();
        return;
      }
      if (!("geolocation" in navigator) || (lat && lat.value)) { submit(); return; }
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(2);
          lng.value = position.coords.longitude.toFixed(2);
          submit();
        },
        function () { submit(); },
        { enableHighAccuracy: false, timeout: 8000, maximumAge: 600000 }
      );
    });
  }
})();
