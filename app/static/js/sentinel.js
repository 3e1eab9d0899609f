/* Behaviour every page shares, in place of inline event handlers (the Content-Security-
   Policy runs no inline handler):
   - <select data-submit-on-change>: choosing submits its form (page size);
   - <select data-reload-param="name">: choosing reloads the page with ?name=<value>
     (the form follows the chosen enterprise or type; other parameters are kept). */
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
