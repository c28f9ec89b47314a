// Barcode-scanner support: the scan field keeps focus, Enter submits only the scan form,
// and each htmx result clears the field for the next scan. No external code.
(function () {
  function scanField() { return document.querySelector("input[data-scan]"); }
  function refocus() {
    var f = scanField();
    if (!f) return;
    var active = document.activeElement;
    // Keep focus on the scan field unless the user chose another control on purpose.
    if (!active || active === document.body) { f.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var f = scanField();
    if (f) { f.focus(); }
    document.addEventListener("click", function () { setTimeout(refocus, 0); });
    // Some scanners send Tab after the code: submit the scan form instead of moving focus.
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (t && t.matches && t.matches("input[data-scan]") && e.key === "Tab" && t.value.trim() !== "") {
        e.preventDefault();
        if (t.form.requestSubmit) { t.form.requestSubmit(); } else { t.form.submit(); }
      }
    });
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.target.closest && e.target.closest("form[data-scan-form]");
    if (!form) return;
    var f = form.querySelector("input[data-scan]");
    if (f) { f.value = ""; f.focus(); }
  });
})();
