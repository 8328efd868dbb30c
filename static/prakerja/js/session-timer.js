// Officers' idle-session warning (prakerja/security.py ends a staff session after
// OFFICER_SESSION_IDLE_SECONDS without a request). Two minutes before that, a dialog
// offers "Stay signed in" (a POST that counts as activity). When the time is up the
// page says so and blocks its forms, so nobody types a long form into a dead session
// and loses it on submit.
(function () {
  "use strict";
  var box = document.getElementById("session-timer");
  if (!box) return;
  var idle = parseInt(box.dataset.idleSeconds, 10);
  var warn = parseInt(box.dataset.warnSeconds, 10);
  if (!(idle > 0)) return;
  var form = box.querySelector("form");
  var countdown = box.querySelector("[data-countdown]");
  var deadline = Date.now() + idle * 1000;
  var ended = false;
  // Tabs share the clock: a page loaded in another tab is activity for this one too.
  var KEY = "prakerja-session-seen";
  function seen(now) {
    try {
      window.localStorage.setItem(KEY, String(now));
    } catch (error) {
      /* storage disabled: this tab keeps its own clock */
    }
  }
  function lastSeen() {
    try {
      return parseInt(window.localStorage.getItem(KEY), 10) || 0;
    } catch (error) {
      return 0;
    }
  }
  seen(Date.now());

  function format(seconds) {
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function end() {
    ended = true;
    box.hidden = false;
    box.classList.add("session-timer-is-ended");
    box.querySelector(".session-timer-warn").hidden = true;
    box.querySelector(".session-timer-ended").hidden = false;
    box.querySelector(".session-timer-stay").hidden = true;
    box.querySelector(".session-timer-login").hidden = false;
    document.querySelectorAll("form").forEach(function (other) {
      if (other === form) return;
      other.addEventListener("submit", function (event) {
        event.preventDefault();
        box.scrollIntoView();
      });
    });
  }

  function tick() {
    if (ended) return;
    deadline = Math.max(deadline, lastSeen() + idle * 1000);
    var left = Math.round((deadline - Date.now()) / 1000);
    if (left <= 0) {
      end();
      return;
    }
    if (left <= warn) {
      if (box.hidden) {
        box.hidden = false;
        box.querySelector(".session-timer-stay").focus();
      }
      countdown.textContent = format(left);
    } else if (!box.hidden) {
      box.hidden = true;
    }
    window.setTimeout(tick, 1000);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(box.dataset.keepaliveUrl, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      redirect: "manual",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (response.status !== 200) throw new Error("session ended");
        return response.json();
      })
      .then(function (data) {
        deadline = Date.now() + data.idle_seconds * 1000;
        seen(Date.now());
        box.hidden = true;
      })
      .catch(function () {
        end();
      });
  });

  window.setTimeout(tick, 1000);
})();
