/* The staff ledger (staff_list.html):
   - 显示列: <input data-col-toggle="key"> shows or hides the cells [data-col="key"] of the
     table[data-columns-key]; the hidden columns are remembered in localStorage (until then
     those of data-columns-hidden are hidden);
   - 主体名称 type-ahead: <input data-filters="<select id>"> keeps only the options whose
     text contains what is typed (全部 always stays); one match left is chosen. */
(function () {
  "use strict";
  var table = document.querySelector("table[data-columns-key]");
  if (table) {
    var storeKey = "sentinel.columns." + table.getAttribute("data-columns-key");
    // until the user chooses, the columns named in data-columns-hidden stay hidden (a PC table
    // of all thirteen would not fit); the choice is then remembered
    var hidden = (table.getAttribute("data-columns-hidden") || "").split(" ").filter(Boolean);
    try {
      var stored = window.localStorage.getItem(storeKey);
      if (stored !== null) { hidden = JSON.parse(stored) || []; }
    } catch (e) { /* private mode or a damaged value: the defaults */ }
    var apply = function () {
      Array.prototype.forEach.call(table.querySelectorAll("[data-col]"), function (cell) {
        cell.style.display = hidden.indexOf(cell.getAttribute("data-col")) >= 0 ? "none" : "";
      });
    };
    Array.prototype.forEach.call(document.querySelectorAll("input[data-col-toggle]"), function (box) {
      var key = box.getAttribute("data-col-toggle");
      box.checked = hidden.indexOf(key) < 0;
      box.addEventListener("change", function () {
        hidden = hidden.filter(function (k) { return k !== key; });
        if (!box.checked) { hidden.push(key); }
        try { window.localStorage.setItem(storeKey, JSON.stringify(hidden)); } catch (e) { /* private mode */ }
        apply();
      });
    });
    apply();
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[data-filters]"), function (input) {
    var select = document.getElementById(input.getAttribute("data-filters"));
    if (!select) { return; }
    input.addEventListener("input", function () {
      var text = input.value.trim().toLowerCase();
      var matches = [];
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) { return; }
        var match = !text || option.text.toLowerCase().indexOf(text) >= 0;
        option.hidden = !match;
        option.disabled = !match;
        if (match) { matches.push(option); }
      });
      if (text && matches.length === 1 && select.value !== matches[0].value) {
        select.value = matches[0].value;
      }
    });
  });
})();
