/* Behaviour every page shares, in place of inline event handlers (the Content-Security-
   Policy runs no inline handler):
   - <select data-submit-on-change>: choosing submits its form (page size);
   - <select data-reload-param="name">: choosing reloads the page with ?name=<value>
     (the form follows the chosen enterprise or type; other parameters are kept);
   - on Flask-AppBuilder's pages, FAB's ab.js starts the date picker and Select2 on every
     page: where the page has no such field, the plugin is not loaded (baselayout.html)
     and does nothing. (This script runs before ab.js's document-ready handler.) */
(function () {
  "use strict";
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (!el || !el.getAttribute) { return; }
    if (el.hasAttribute("data-submit-on-change") && el.form) { el.form.submit(); return; }
    var param = el.getAttribute("data-reload-param");
    if (param) {  // the other parameters (e.g. the form's ?back=) stay
      var params = new URLSearchParams(window.location.search);
      params.set(param, el.value);
      window.location.search = "?" + params.toString();
    }
  });
})();
(function ($) {
  "use strict";
  if (!$) { return; }
  ["datepicker", "select2"].forEach(function (name) {
    if (!$.fn[name]) { $.fn[name] = function () { return this; }; }
  });
})(window.jQuery);
