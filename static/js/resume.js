// Offer again a form sent after the session ended (core.views.login_to_resume keeps its
// fields; the {% resume_form %} tag puts them in <script id="resume-form">). Fills the form
// whose action they were sent to, opens it if folded, and puts it in view. Sends nothing.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.getElementById("resume-form");
    if (!holder) { return; }
    var data;
    try { data = JSON.parse(holder.textContent); } catch (e) { return; }
    var form = Array.prototype.find.call(document.forms, function (f) {
      var m = (f.getAttribute("method") || "get").toLowerCase();
      return m === "post" && new URL(f.action, window.location.href).pathname === data.action;
    });
    if (!form) { return; }
    var seen = {};
    (data.fields || []).forEach(function (pair) {
      var name = pair[0], value = pair[1];
      var els = form.querySelectorAll('[name="' + (window.CSS && CSS.escape ? CSS.escape(name) : name) + '"]');
      els.forEach(function (el) {
        if (el.type === "hidden" || el.type === "file" || el.type === "password") { return; }
        if (el.type === "checkbox" || el.type === "radio") {
          if (!seen[name]) { el.checked = false; }
          if (el.value === value) { el.checked = true; }
        } else if (el.tagName === "SELECT" && el.multiple) {
          Array.prototype.forEach.call(el.options, function (o) { if (o.value === value) { o.selected = true; } });
        } else {
          el.value = value;
        }
      });
      seen[name] = true;
    });
    var details = form.closest("details");
    if (details) { details.open = true; }
    form.classList.add("resumed");
    var note = document.createElement("p");
    note.className = "msg warning";
    note.setAttribute("role", "status");
    note.textContent = "Filled in again after your log-in: NOT saved yet. Check it and send it again.";
    form.insertBefore(note, form.firstChild);
    form.scrollIntoView({ block: "center" });
    var first = form.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
  });
})();
