/* 我的预约 (sentinel/driver_mine.html): the phone identity (purpose ``driver``:
   POST /api/v1/identity/code, then /verify → a token kept for this tab only), then the
   driver's own bookings with their state (待通行 / 已通行 / 不予通行 / 已过期); a pending
   one shows its QR again; 查看详情 opens the booking. */
(function () {
  "use strict";
  var root = document.getElementById("driver-mine");
  if (!root) { return; }
  var api = window.SentinelApi;
  var el = api.el;
  var T = api.texts("driver-texts");
  var KEY = "sentinel.driver.token";
  var $ = function (id) { return document.getElementById(id); };

  function message(kind, text) {
    var box = $("mine-message");
    box.className = "alert alert-" + kind + (text ? "" : " hidden");
    box.textContent = text || "";
  }
  function phone() { return $("mine-phone").value.trim(); }

  $("mine-get-code").addEventListener("click", function () {
    var button = this;
    api.request("POST", root.getAttribute("data-code-url"), {body: {phone: phone(), purpose: "driver"}})
      .then(function (answer) {
        message(answer.ok ? "success" : "danger", answer.data.message || T.failed);
        if (!answer.ok) { return; }
        var label = button.textContent;
        var seconds = parseInt(root.getAttribute("data-resend"), 10) || 60;
        button.disabled = true;
        button.textContent = seconds + T.wait;
        var timer = setInterval(function () {
          seconds -= 1;
          if (seconds <= 0) { clearInterval(timer); button.disabled = false; button.textContent = label; return; }
          button.textContent = seconds + T.wait;
        }, 1000);
      }, function () { message("danger", T.failed); });
  });

  $("mine-login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    api.request("POST", root.getAttribute("data-verify-url"),
                {body: {phone: phone(), code: $("mine-code").value.trim(), purpose: "driver"}})
      .then(function (answer) {
        if (!answer.ok || !answer.data.access_token) { message("danger", answer.data.message || T.failed); return; }
        sessionStorage.setItem(KEY, answer.data.access_token);
        message("info", "");
        load();
      }, function () { message("danger", T.failed); });
  });

  function card(b, token) {
    var state = b.state || "expired";
    var box = el("div", {"class": "booking-card", "data-booking-id": String(b.id), "data-state": state});
    box.appendChild(el("span", {"class": "state " + state}, b.state_label || T.states[state] || state));
    box.appendChild(el("strong", {"class": "plate"}, b.plate_number || ""));
    box.appendChild(el("div", {"class": "text-muted"},
      window.SentinelBooking.shownTime(b.expected_arrival) + " · " + (b.destination_town || "")));
    if (state === "pending" && b.qr_url) {
      box.appendChild(el("img", {"class": "pass-qr", "src": b.qr_url, "alt": T.show_pass}));
      box.appendChild(el("p", {"class": "pass-code text-center"}, b.code || ""));
    }
    var toggle = el("button", {"type": "button", "class": "btn btn-link btn-block show-detail"}, T.detail);
    var detail = window.SentinelBooking.detail(b, token, T.booking);
    detail.classList.add("hidden");
    toggle.addEventListener("click", function () { detail.classList.toggle("hidden"); });
    box.appendChild(toggle);
    box.appendChild(detail);
    return box;
  }

  function load() {
    var token = sessionStorage.getItem(KEY);
    if (!token) { return; }
    api.request("GET", root.getAttribute("data-list-url"), {token: token}).then(function (answer) {
      if (answer.status === 401) { sessionStorage.removeItem(KEY); message("warning", answer.data.message || ""); return; }
      if (!answer.ok) { message("danger", answer.data.message || T.failed); return; }
      var rows = answer.data.result || [];
      var box = $("mine-bookings");
      box.textContent = "";
      if (!rows.length) { box.appendChild(el("p", {"class": "text-muted", "id": "mine-none"}, T.none)); }
      rows.forEach(function (b) { box.appendChild(card(b, token)); });
      $("mine-login").classList.add("hidden");
      $("mine-list").classList.remove("hidden");
    }, function () { message("danger", T.failed); });
  }

  $("mine-logout").addEventListener("click", function () {
    sessionStorage.removeItem(KEY);
    $("mine-list").classList.add("hidden");
    $("mine-login").classList.remove("hidden");
  });
  load();
})();
