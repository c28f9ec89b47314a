// Barcode-scanner support for the check-out and check-in pages. No external code.
//
// - The scan field keeps focus; Enter (or a scanner's trailing Tab) submits only the scan form.
// - Each scan is captured and the field cleared AT ONCE, then posted in the background, so a
//   fast second scan is never cut short by the reply to the first one.
// - Every scan carries its own one-time key (double submits of one scan do nothing twice;
//   two different scans are never mistaken for a re-submission).
// - If the session expired or the security token changed, the scan is not lost silently:
//   the code goes back in the field with a message saying what to do.
// - The district's scanner prefix and suffix (<body data-scan-prefix / data-scan-suffix>) are
//   removed from every scan, as the server's core.querystring.scan_clean does.
// - A scan that follows another within a moment (a device tag ~150 ms after a student card) is
//   never glued onto it: a new burst of scanner keys (or the prefix) ends the scan before it,
//   and keys typed while the page moves on to the next step are carried over to it.
// - Name suggestions (#lookup) are chosen with the arrow keys and Enter.
// - Forms marked data-once disable their button while sending (a double-click sends once).
// Without JavaScript the forms post normally and the page reloads with the result.
(function () {
  var FAST_MS = 40;   // scanners type a key every few ms; people much slower
  var GAP_MS = 100;   // a pause this long after a scanner's burst ends that scan
  var CARRY = "ledger.scanCarry";

  function scanField(root) { return (root || document).querySelector("input[data-scan]"); }

  function affixes() {
    var b = document.body || { getAttribute: function () { return ""; } };
    return { prefix: b.getAttribute("data-scan-prefix") || "", suffix: b.getAttribute("data-scan-suffix") || "" };
  }

  // The one place the browser cleans a scan (the server's twin: core.querystring.scan_clean).
  function clean(code) {
    var a = affixes();
    var text = String(code || "").replace(/[\u0000-\u001f\u007f]/g, "").trim();
    if (a.prefix && text.indexOf(a.prefix) === 0) { text = text.slice(a.prefix.length); }
    if (a.suffix && text.length > a.suffix.length && text.slice(-a.suffix.length) === a.suffix) {
      text = text.slice(0, -a.suffix.length);
    }
    return text.trim();
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function show(results, html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    // The server may send a fresh form key out of band (the client makes its own, so drop it)
    // and the person's holdings, refreshed (they replace the page's).
    holder.querySelectorAll("[hx-swap-oob]").forEach(function (el) {
      var old = el.id && el.getAttribute("name") !== "submission_key" ? document.getElementById(el.id) : null;
      el.remove();
      if (old) { el.removeAttribute("hx-swap-oob"); old.replaceWith(el); }
    });
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
    var code = clean(field.value);
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
        // The server kept what was sent for this page: log in, and it is offered again here.
        problem(results, field, code, "Your session has ended: " + code + " was NOT recorded. Log in again: you come back to this page with it filled in.");
        setTimeout(function () { window.location.href = response.url; }, 1500);
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

  // ---- scans that follow each other closely -------------------------------------------
  var leaving = null;  // keys typed after a page-changing scan form was sent, carried over

  function finishScan(field) {
    var form = field.form;
    if (!form) { return; }
    if (form.hasAttribute("data-scan-form")) { submitScan(form); return; }
    field.value = clean(field.value);
    form.requestSubmit ? form.requestSubmit() : form.submit();
  }

  function carry(text, enter) {
    try {
      sessionStorage.setItem(CARRY, JSON.stringify({ text: text, enter: enter, at: Date.now() }));
    } catch (e) { /* private mode: the keys are lost, never glued */ }
  }

  function takeCarry() {
    var raw = null;
    try { raw = sessionStorage.getItem(CARRY); sessionStorage.removeItem(CARRY); } catch (e) { return null; }
    if (!raw) { return null; }
    try {
      var c = JSON.parse(raw);
      return c && Date.now() - c.at < 10000 ? c : null;
    } catch (e) { return null; }
  }

  function onScanKey(e) {
    var t = e.target;
    if (leaving) {
      // The page is moving on: these keys belong to the next scan, on the next page.
      if (e.key === "Enter" || e.key === "Tab") { leaving.enter = true; }
      else if (e.key.length === 1) { leaving.text += e.key; }
      else { return; }
      e.preventDefault();
      carry(leaving.text, leaving.enter);
      return;
    }
    if (!(t && t.matches && t.matches("input[data-scan]")) || e.key.length !== 1 || e.ctrlKey || e.metaKey || e.altKey) {
      return;
    }
    var now = performance.now();
    var st = t._scan;
    if (!st || t.value === "") { st = t._scan = { last: 0, n: 0, fast: true }; }
    var gap = now - st.last;
    var prefix = affixes().prefix;
    var burstDone = st.n >= 4 && st.fast && gap > GAP_MS;
    var prefixStarts = prefix && e.key === prefix.charAt(0) && st.n >= 1 && st.fast && t.value !== "";
    if ((burstDone || prefixStarts) && t.value !== "") {
      var navigates = t.form && !t.form.hasAttribute("data-scan-form");
      finishScan(t);
      t._scan = { last: now, n: 1, fast: true };
      if (navigates) {
        e.preventDefault();
        leaving = { text: e.key, enter: false };
        carry(leaving.text, false);
      }
      return;
    }
    if (st.n > 0 && gap > FAST_MS) { st.fast = false; }
    st.n += 1;
    st.last = now;
  }

  // ---- name suggestions: arrow keys and Enter ------------------------------------------
  function suggestions(field) {
    var form = field.form;
    var box = form && form.querySelector("[data-suggestions]");
    return box ? Array.prototype.slice.call(box.querySelectorAll("a")) : [];
  }

  function onSuggestKey(e) {
    var t = e.target;
    if (!(t && t.matches && t.matches("form[data-person-find] input[data-scan]"))) { return; }
    var options = suggestions(t);
    var current = options.findIndex(function (a) { return a.classList.contains("active"); });
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!options.length) { return; }
      e.preventDefault();
      var next = e.key === "ArrowDown" ? Math.min(current + 1, options.length - 1) : Math.max(current - 1, -1);
      options.forEach(function (a, i) {
        a.classList.toggle("active", i === next);
        a.setAttribute("aria-selected", i === next ? "true" : "false");
      });
      t.setAttribute("aria-activedescendant", next >= 0 ? (options[next].id || "") : "");
      if (next >= 0) { options[next].scrollIntoView({ block: "nearest" }); }
    } else if (e.key === "Enter" && current >= 0) {
      e.preventDefault();
      var href = options[current].getAttribute("href");
      var device = t.form.querySelector("input[name=device]");
      if (device && device.value) { href += (href.indexOf("?") === -1 ? "?" : "&") + "device=" + encodeURIComponent(device.value); }
      window.location.href = href;
    } else if (e.key === "Escape") {
      options.forEach(function (a) { a.classList.remove("active"); });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var f = scanField();
    if (f) { f.focus(); }
    var carried = takeCarry();
    if (f && carried && carried.text) {
      f.value = carried.text;
      if (carried.enter) { finishScan(f); }
    }
    document.addEventListener("keydown", onScanKey, true);
    document.addEventListener("keydown", onSuggestKey);
    // A page-changing scan form (the student card on Check out) was sent: keys that follow go
    // to the next page, not onto the card's number.
    document.querySelectorAll("form:not([data-scan-form])").forEach(function (form) {
      if (!scanField(form)) { return; }
      form.addEventListener("submit", function () {
        var field = scanField(form);
        if (field) { field.value = clean(field.value); }
        leaving = { text: "", enter: false };
      });
    });
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (form.getAttribute("data-sending") === "1") { e.preventDefault(); return; }
        form.setAttribute("data-sending", "1");
        setTimeout(function () {
          form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
            b.disabled = true;
            if (b.getAttribute("data-sending")) { b.textContent = b.getAttribute("data-sending"); }
          });
        }, 0);
      });
    });
    // Back/forward cache: a page shown again is not still sending.
    window.addEventListener("pageshow", function (ev) {
      if (!ev.persisted) { return; }
      leaving = null;
      document.querySelectorAll("form[data-once]").forEach(function (form) {
        form.removeAttribute("data-sending");
        form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      });
    });
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
