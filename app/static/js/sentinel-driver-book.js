/* 新增预约 (sentinel/driver_book.html): passengers added and removed on the page, image
   checks before upload (type, size, count), 提交预约 → POST /api/v1/bookings (JSON, or
   multipart with the images: the fields, ``passengers`` as JSON, the files ``images``).
   The answer (the booking with its pass) replaces the form by the QR; a refusal shows
   the server's message (认证不通过… for a failed identity check) and each field's reason. */
(function () {
  "use strict";
  var root = document.getElementById("driver-book");
  if (!root) { return; }
  var api = window.SentinelApi;
  var T = api.texts("driver-texts");
  var form = document.getElementById("booking-form");
  var list = document.getElementById("passengers");
  var template = document.getElementById("passenger-template");
  var maxPassengers = parseInt(root.getAttribute("data-max-passengers"), 10) || 5;
  var maxImages = parseInt(root.getAttribute("data-max-images"), 10) || 3;
  var maxBytes = parseInt(root.getAttribute("data-max-bytes"), 10) || 5 * 1024 * 1024;
  var addButton = document.getElementById("add-passenger");

  function message(kind, text) {
    var box = document.getElementById("book-message");
    box.className = "alert alert-" + kind + (text ? "" : " hidden");
    box.textContent = text || "";
    if (text) { box.scrollIntoView({block: "start"}); }
  }
  function renumber() {
    var rows = list.querySelectorAll(".passenger-row");
    rows.forEach(function (row, i) { row.querySelector(".passenger-title").textContent = T.passenger + (i + 1); });
    addButton.disabled = rows.length >= maxPassengers;
  }
  addButton.addEventListener("click", function () {
    if (list.querySelectorAll(".passenger-row").length >= maxPassengers) { return; }
    list.appendChild(document.importNode(template.content, true));
    renumber();
  });
  list.addEventListener("click", function (ev) {
    var button = ev.target.closest ? ev.target.closest(".remove-passenger") : null;
    if (!button) { return; }
    button.closest(".passenger-row").remove();
    renumber();
  });

  function clearErrors() {
    form.querySelectorAll(".field-error").forEach(function (n) { n.textContent = ""; });
    form.querySelectorAll(".has-error").forEach(function (n) { n.classList.remove("has-error"); });
  }
  function fieldError(key, text) {
    var match = /^passengers\[(\d+)\]/.exec(key);
    var box = null;
    if (match) { box = list.querySelectorAll(".passenger-row")[parseInt(match[1], 10)] || null; }
    if (!box) { box = form.querySelector("[data-field='" + key.split(".")[0] + "']"); }
    if (!box) { return false; }
    box.classList.add("has-error");
    var slot = box.querySelector(".field-error");
    if (slot) { slot.textContent = text; }
    return true;
  }
  function checkImages(files) {
    if (files.length > maxImages) { return T.too_many; }
    for (var i = 0; i < files.length; i++) {
      if (!/^image\/(jpeg|png|gif|webp)$/.test(files[i].type)) { return T.not_image; }
      if (files[i].size > maxBytes) { return T.too_big; }
    }
    return null;
  }

  function payload() {
    var data = {};
    ["driver_name", "id_number", "phone", "plate_number", "company", "origin", "destination_town",
     "destination_address", "expected_arrival"].forEach(function (key) {
      data[key] = (form.elements[key].value || "").trim();
    });
    data.passengers = [];
    list.querySelectorAll(".passenger-row").forEach(function (row) {
      var p = {name: row.querySelector(".p-name").value.trim(), id_number: row.querySelector(".p-id").value.trim(),
               phone: row.querySelector(".p-phone").value.trim()};
      if (p.name || p.id_number || p.phone) { data.passengers.push(p); }  // a row left blank is no passenger
    });
    return data;
  }

  function showPass(booking) {
    form.classList.add("hidden");
    message("success", "");
    document.getElementById("pass-qr").src = booking.qr_url;
    document.getElementById("pass-code").textContent = booking.code || "";
    var box = document.getElementById("pass-booking");
    box.textContent = "";
    box.appendChild(window.SentinelBooking.detail(booking, null, T.booking));
    document.getElementById("pass").classList.remove("hidden");
    window.scrollTo(0, 0);
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearErrors();
    var files = form.elements.images.files;
    var wrong = checkImages(files);
    if (wrong) { fieldError("images", wrong); message("danger", wrong); return; }
    var data = payload();
    var body = data;
    if (files.length) {
      body = new FormData();
      Object.keys(data).forEach(function (key) {
        body.append(key, key === "passengers" ? JSON.stringify(data.passengers) : data[key]);
      });
      for (var i = 0; i < files.length; i++) { body.append("images", files[i]); }
    }
    var submit = document.getElementById("submit-booking");
    submit.disabled = true;
    message("info", T.submitting);
    api.request("POST", root.getAttribute("data-url"), {body: body}).then(function (answer) {
      submit.disabled = false;
      if (answer.ok) { showPass(answer.data.result || answer.data); return; }
      var errors = answer.data.errors || {};
      Object.keys(errors).forEach(function (key) { fieldError(key, errors[key]); });
      message("danger", answer.data.message || T.failed);
    }, function () { submit.disabled = false; message("danger", T.failed); });
  });
  renumber();
})();
