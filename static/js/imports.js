// New import page: show only the options the chosen importer reads. Each option's input carries
// data-kinds="oneroster csv …" (imports.forms.OPTION_KINDS); its .field row is hidden otherwise.
(function () {
  "use strict";
  function update(form) {
    var kind = form.querySelector("[name=kind]");
    if (!kind) return;
    var chosen = kind.value;
    form.querySelectorAll("[data-kinds]").forEach(function (input) {
      var row = input.closest(".field");
      if (!row) return;
      var show = input.getAttribute("data-kinds").split(" ").indexOf(chosen) !== -1;
      row.hidden = !show;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-import-form]").forEach(function (form) {
      update(form);
      form.addEventListener("change", function (event) {
        if (event.target && event.target.name === "kind") update(form);
      });
    });
  });
})();
