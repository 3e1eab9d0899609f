/* The import page (sentinel/import_form.html): 下载模板 follows the chosen enterprise or
   type, and a background import's progress is polled until it ends. URLs and texts
   come from data-* attributes ({c} {u} {f} in the result text are the counts). */
(function () {
  "use strict";
  var select = document.getElementById("f-enterprise_id") || document.getElementById("f-enterprise_type");
  var link = document.getElementById("btn-template");
  function update() {
    if (!select || !select.value || !link) { return; }
    link.href = link.getAttribute("data-url") + "?" +
      (select.name === "enterprise_id" ? "enterprise_id=" : "enterprise_type=") + encodeURIComponent(select.value);
  }
  if (select) { select.addEventListener("change", update); update(); }

  var box = document.getElementById("import-job");
  if (!box) { return; }
  var bar = document.getElementById("import-progress"), out = document.getElementById("import-job-result");
  function text(name) { return box.getAttribute("data-" + name) || ""; }
  function poll() {
    fetch(box.getAttribute("data-url"), {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
      bar.style.width = s.progress + "%"; bar.textContent = s.progress + "%";
      if (s.status === "finished" && s.result) {
        var r = s.result;
        out.textContent = text("result-text").replace("{c}", r.created).replace("{u}", r.updated).replace("{f}", r.failed);
        if (r.errors_url) {
          var a = document.createElement("a"); a.href = r.errors_url; a.id = "import-errors-link";
          a.textContent = " " + text("errors-text"); out.appendChild(a);
        }
        if (r.health_job) {
          var p = document.createElement("p"); p.id = "import-health-note"; p.textContent = text("health-text");
          out.appendChild(p);
        }
      } else if (s.status === "failed") {
        out.textContent = (s.result && s.result.error) || text("failed-text");
      } else { setTimeout(poll, 1000); }
    });
  }
  poll();
})();
