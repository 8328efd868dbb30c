/* The waiting page (prakerja/admission.py): count down the Retry-After seconds, then send the kept
   form again. Without JavaScript the person presses "Try again now". A static file: the
   Content-Security-Policy allows no inline script. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-admission-retry]");
  if (!form) {
    return;
  }
  var left = parseInt(form.getAttribute("data-retry-after"), 10);
  if (!(left >= 0)) {
    left = 10;
  }
  var counters = document.querySelectorAll("[data-countdown]");
  var sending = document.querySelector("[data-waiting-sending]");
  var status = document.querySelector("[data-waiting-status]");
  var sent = false;

  function send() {
    if (sent) {
      return;
    }
    sent = true;
    if (status) {
      status.hidden = true;
    }
    if (sending) {
      sending.hidden = false;
    }
    form.submit();
  }

  form.addEventListener("submit", function () {
    sent = true;
  });

  function tick() {
    for (var i = 0; i < counters.length; i++) {
      counters[i].textContent = String(left);
    }
    if (left <= 0) {
      send();
      return;
    }
    left -= 1;
    window.setTimeout(tick, 1000);
  }
  tick();
})();
