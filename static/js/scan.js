// Barcode-scanner support for the check-out and check-in pages. No external code.
//
// - The scan field keeps focus; Enter (or a scanner's trailing Tab) submits only the scan form.
// - Each scan is captured and the field cleared AT ONCE, then posted in the background, so a
//   fast second scan is never cut short by the reply to the first one.
// - Every scan carries its own one-time key (double submits of one scan do nothing twice;
//   two different scans are never mistaken for a re-submission).
// - If the session expired or the security token changed, the scan is not lost silently:
//   the code goes back in the field with a message saying what to do.
// Without JavaScript the forms post normally and the page reloads with the result.
(function () {
  function scanField(root) { return (root || document).querySelector("input[data-scan]"); }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function show(results, html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    // The server may send a fresh form key out of band; the client makes its own, so drop it.
    holder.querySelectorAll("[hx-swap-oob]").forEach(function (el) { el.remove(); });
    while (holder.lastChild) { results.insertBefore(holder.lastChild, results.firstChild); }
  }

  function problem(results, field, code, text) {
    var div = document.createElement("div");
    div.className = "result fail";
    div.setAttribute("role", "alert");
    div.textContent = text;
    results.insertBefore(div, results.firstChild);
    if (field && !field.value) { field.value = code; }
  }

  function submitScan(form) {
    var field = scanField(form);
    var code = field.value.trim();
    if (!code) { field.focus(); return; }
    var data = new FormData(form);
    data.set(field.name, code);
    if (form.querySelector("input[name=submission_key]")) { data.set("submission_key", newKey()); }
    field.value = "";
    field.focus();
    var results = document.getElementById(form.getAttribute("data-results") || "results");
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "HX-Request": "true", "X-Requested-With": "fetch" },
    }).then(function (response) {
      var loggedOut = response.redirected && response.url.indexOf("/login/") !== -1;
      if (loggedOut) {
        problem(results, field, code, "Your session has ended: " + code + " was NOT recorded. Log in again in another tab, then scan it again.");
        return;
      }
      if (response.status === 403) {
        problem(results, field, code, code + " was NOT recorded: this page is out of date (you logged in again elsewhere). Reload the page and scan it again.");
        return;
      }
      if (!response.ok) {
        problem(results, field, code, code + " was NOT recorded (the server answered " + response.status + "). Try again.");
        return;
      }
      return response.text().then(function (html) { show(results, html); });
    }).catch(function () {
      problem(results, field, code, code + " was NOT recorded: no connection. Check the network and scan it again.");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var f = scanField();
    if (f) { f.focus(); }
    document.querySelectorAll("form[data-scan-form]").forEach(function (form) {
      form.addEventListener("submit", function (e) { e.preventDefault(); submitScan(form); });
    });
    document.addEventListener("click", function () {
      setTimeout(function () {
        var active = document.activeElement;
        var field = scanField();
        if (field && (!active || active === document.body)) { field.focus(); }
      }, 0);
    });
    // Some scanners send Tab after the code: submit the scan instead of moving focus.
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (t && t.matches && t.matches("input[data-scan]") && e.key === "Tab" && t.value.trim() !== "") {
        e.preventDefault();
        var form = t.form;
        if (form && form.hasAttribute("data-scan-form")) { submitScan(form); }
        else if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
      }
    });
  });
})();
