/* A booking as the phone pages show it (the scan screen's 查看详情, the driver's own
   bookings): 基本信息 (label → value rows), 乘车人信息 (name, ID, phone), and the health
   images. Labels come from the page (Babel) as JSON: {fields: {key: label}, …}. */
(function () {
  "use strict";
  var el = window.SentinelApi.el;
  var BASIC = ["driver_name", "id_number", "phone", "plate_number", "company", "origin", "destination_town",
               "destination_address", "expected_arrival", "state_label", "created_at"];

  function shownTime(value) {
    /* ISO 8601 with the district's offset → "YYYY-MM-DD HH:MM" as written. */
    var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(String(value || ""));
    return m ? m[1] + " " + m[2] : (value || "");
  }

  function basicTable(booking, labels) {
    var table = el("table", {"class": "table table-bordered sentinel-detail booking-basic"});
    var body = table.appendChild(el("tbody"));
    BASIC.forEach(function (key) {
      if (!(key in booking) || !labels.fields[key]) { return; }
      var value = booking[key];
      if (key === "expected_arrival" || key === "created_at") { value = shownTime(value); }
      var row = el("tr", {"data-key": key});
      row.appendChild(el("th", {}, labels.fields[key]));
      row.appendChild(el("td", {"class": "booking-" + key.replace(/_/g, "-")}, value === null ? "" : value));
      body.appendChild(row);
    });
    return table;
  }

  function passengerTable(passengers, labels) {
    if (!passengers || !passengers.length) { return el("p", {"class": "text-muted no-passengers"}, labels.none); }
    var table = el("table", {"class": "table table-bordered booking-passengers"});
    var body = table.appendChild(el("tbody"));
    var head = el("tr");
    [labels.passenger_name, labels.passenger_id, labels.passenger_phone].forEach(function (t) {
      head.appendChild(el("th", {}, t));
    });
    body.appendChild(head);
    passengers.forEach(function (p) {
      var row = el("tr", {"class": "passenger"});
      [p.name, p.id_number, p.phone].forEach(function (v) { row.appendChild(el("td", {}, v || "")); });
      body.appendChild(row);
    });
    return table;
  }

  function images(booking, token, labels) {
    var box = el("div", {"class": "booking-images"});
    var list = booking.images || [];
    if (typeof list === "number") {  // the driver's own answer: how many were uploaded
      box.appendChild(el("p", {"class": list ? "" : "text-muted"},
                         list ? labels.images_count.replace("%(n)s", String(list)) : labels.no_images));
      return box;
    }
    if (!list.length) { box.appendChild(el("p", {"class": "text-muted"}, labels.no_images)); return box; }
    list.forEach(function (item) {
      var url = typeof item === "string" ? item : (item.url || "");
      if (!url) { return; }
      var img = el("img", {"class": "booking-image img-thumbnail", "alt": labels.image});
      box.appendChild(img);
      window.SentinelApi.image(url, token).then(function (src) { img.src = src; }, function () {
        img.replaceWith(el("span", {"class": "text-danger"}, labels.image_failed));
      });
    });
    return box;
  }

  /* The whole detail: 基本信息, 乘车人信息, 健康信息. */
  function detail(booking, token, labels) {
    var box = el("div", {"class": "booking-detail"});
    box.appendChild(el("h4", {}, labels.basic));
    box.appendChild(basicTable(booking, labels));
    box.appendChild(el("h4", {}, labels.passengers));
    box.appendChild(passengerTable(booking.passengers, labels));
    box.appendChild(el("h4", {}, labels.health));
    box.appendChild(images(booking, token, labels));
    return box;
  }

  window.SentinelBooking = {detail: detail, shownTime: shownTime};
})();
