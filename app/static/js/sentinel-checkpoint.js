/* The checkpoint's scan screen (sentinel/checkpoint_scan.html).

   扫一扫 opens the rear camera (getUserMedia) and decodes frames with the vendored jsQR;
   the typed code is the fallback (a camera refused, no HTTPS, an old phone). A code is
   sent to POST /api/v1/checkpoint/scan; the answer shows 南沙企业司机 + 企业名称 or
   非南沙企业司机, the test and vaccine labels and the booking (查看详情). 允许通行 /
   不予通行 (a reason required: one of the common ones, or 其他 with a text) go to
   POST /api/v1/checkpoint/decide. A 409 (the pass already used) shows the server's
   message, 二维码已过期，请司机重新预约.

   The APIs take the page's token (Authorization: Bearer, no cookie, so no CSRF); an
   expired token is renewed once from the page's token URL (the login session). */
(function () {
  "use strict";
  var root = document.getElementById("checkpoint");
  if (!root) { return; }
  var api = window.SentinelApi;
  var T = api.texts("checkpoint-texts");
  var token = root.getAttribute("data-token");
  var current = null;  // the code on screen
  var busy = false;
  var $ = function (id) { return document.getElementById(id); };

  function show(node, visible) { node.classList.toggle("hidden", !visible); }
  function say(box, kind, text) {
    box.className = "alert alert-" + kind;
    box.textContent = text;
    show(box, !!text);
  }
  /* A scan's message: above the result, where the code was typed. */
  function message(kind, text) { say($("scan-message"), kind, text); }
  /* A decision's message: by the buttons the user just pressed, scrolled into view (with
     查看详情 open the scan's message is a screen or more above). */
  function decisionMessage(kind, text) {
    var box = $("decision-message");
    say(box, kind, text);
    if (text) { box.scrollIntoView({block: "nearest"}); }
  }

  function renew() {
    return api.request("GET", root.getAttribute("data-token-url")).then(function (answer) {
      if (answer.ok && answer.data.access_token) { token = answer.data.access_token; return true; }
      window.location.reload();  // the login itself ended: the login page
      return false;
    });
  }
  function call(url, body, retried) {
    return api.request("POST", url, {body: body, token: token}).then(function (answer) {
      if (answer.status === 401 && !retried) {
        return renew().then(function (ok) { return ok ? call(url, body, true) : answer; });
      }
      return answer;
    });
  }
  function failure(answer) { return (answer && answer.data && answer.data.message) || T.failed; }

  // --- scanning -------------------------------------------------------------------

  function reset() {
    current = null;
    show($("scan-result"), false);
    show($("deny-box"), false);
    show($("booking-detail"), false);
    $("booking-detail").textContent = "";
    $("decision-buttons").querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    show($("decision-buttons"), true);
    show($("next-scan"), false);
    $("deny-form").reset();
    message("info", "");
    decisionMessage("info", "");
  }

  function render(code, data) {
    current = code;
    var enterprise = !!data.enterprise_driver;
    var label = $("driver-label");
    label.textContent = data.driver_label || "";
    label.className = "driver-label " + (enterprise ? "enterprise" : "non-enterprise");
    $("enterprise-name").textContent = enterprise ? (data.enterprise_name || "") : "";
    show($("enterprise-name"), enterprise);
    $("test-label").textContent = data.test_label || "";
    $("vaccine-label").textContent = data.vaccine_label || "";
    var b = data.booking || {};
    $("driver-name").textContent = b.driver_name || "";
    $("plate-number").textContent = b.plate_number || "";
    $("driver-phone").textContent = b.phone || "";
    $("arrival").textContent = window.SentinelBooking.shownTime(b.expected_arrival);
    $("booking-detail").appendChild(window.SentinelBooking.detail(b, token, T.booking));
    show($("scan-result"), true);
    $("scan-result").scrollIntoView({block: "start"});
  }

  function scan(code) {
    code = String(code || "").trim();
    if (!code) { message("warning", T.enter_code); return; }
    if (busy) { return; }
    busy = true;
    reset();
    message("info", T.checking);
    call(root.getAttribute("data-scan-url"), {code: code}).then(function (answer) {
      busy = false;
      if (answer.ok) { message("info", ""); render(code, answer.data); return; }
      message(answer.status === 409 ? "danger expired" : "danger", failure(answer));
    }, function () { busy = false; message("danger", T.failed); });
  }

  $("code-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    scan($("code-input").value);
  });

  // --- the camera -----------------------------------------------------------------

  var stream = null;
  var video = $("camera");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", {willReadFrequently: true});

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    video.srcObject = null;
    show($("camera-box"), false);
    show($("start-camera"), true);
  }
  function tick() {
    if (!stream) { return; }
    if (video.readyState >= 2 && video.videoWidth) {
      var scale = Math.min(1, 640 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var frame = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR && window.jsQR(frame.data, frame.width, frame.height, {inversionAttempts: "dontInvert"});
      if (found && found.data) {
        stopCamera();
        $("code-input").value = found.data;
        scan(found.data);
        return;
      }
    }
    window.requestAnimationFrame(tick);
  }
  $("start-camera").addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $("camera-status").textContent = T.no_camera;
      return;
    }
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.setAttribute("playsinline", "");
      video.play();
      $("camera-status").textContent = T.aim;
      show($("camera-box"), true);
      show($("start-camera"), false);
      window.requestAnimationFrame(tick);
    }, function () { $("camera-status").textContent = T.camera_refused; });
  });
  $("stop-camera").addEventListener("click", stopCamera);

  // --- 查看详情 and the decision -------------------------------------------------------

  $("show-detail").addEventListener("click", function () {
    show($("booking-detail"), $("booking-detail").classList.contains("hidden"));
  });

  function decide(allow, reason) {
    if (!current || busy) { return; }
    busy = true;
    $("decision-buttons").querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    call(root.getAttribute("data-decide-url"), {code: current, allow: allow, reason: reason || ""}).then(function (answer) {
      busy = false;
      if (answer.ok) {
        // the open 查看详情 shows the new state (不予通行 / 已通行), not 待通行
        $("booking-detail").querySelectorAll(".booking-state-label").forEach(function (cell) {
          cell.textContent = answer.data.state_label || "";
        });
        show($("deny-box"), false);
        show($("decision-buttons"), false);
        show($("next-scan"), true);
        decisionMessage(allow ? "success" : "warning", allow ? T.allowed : T.denied);
        current = null;
        return;
      }
      $("decision-buttons").querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      if (answer.status === 409) { show($("decision-buttons"), false); show($("next-scan"), true); show($("deny-box"), false); }
      decisionMessage(answer.status === 409 ? "danger expired" : "danger", failure(answer));
    }, function () {
      busy = false;
      $("decision-buttons").querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      decisionMessage("danger", T.failed);
    });
  }

  $("allow-btn").addEventListener("click", function () { decide(true, ""); });
  $("deny-btn").addEventListener("click", function () {
    show($("deny-box"), true);
    $("deny-box").scrollIntoView({block: "start"});
  });
  $("deny-form").addEventListener("change", function () {
    var other = $("deny-form").querySelector("input[name=reason]:checked");
    show($("other-reason-box"), !!other && other.value === T.other);
    decisionMessage("info", "");
  });
  $("deny-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var chosen = $("deny-form").querySelector("input[name=reason]:checked");
    var reason = chosen ? chosen.value : "";
    if (reason === T.other) { reason = $("other-reason").value.trim(); }
    if (!reason) { decisionMessage("warning", T.reason_required); return; }
    decide(false, reason);
  });
  $("deny-cancel").addEventListener("click", function () { show($("deny-box"), false); });
  $("next-scan").addEventListener("click", function () {
    reset();
    $("code-input").value = "";
    window.scrollTo(0, 0);
  });
})();
