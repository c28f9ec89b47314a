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
// - A scan ends on Enter/Tab, or where the district's prefix starts the next one; a pause never
//   ends a device-tag or check-in scan (a busy computer delays keys, it does not split scans).
// - A scan that follows another within a moment (a device tag ~150 ms after a student card) is
//   never glued onto it: on a page-changing field a new burst of scanner keys ends the scan
//   before it (gaps measured on the keys' own timestamps).
// - On Check out the student's page (form[data-scan-step]) loads IN the page, so the keys
//   scanned meanwhile stay in this document, kept in order and replayed into the device field
//   (no key is lost while one page unloads and the next starts). Other page-changing scans
//   (the dashboard's search) carry the keys typed while the page changes over to the next one.
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
    // Fields that describe one scan only (check-in's condition and notes) go back to their
    // starting value once it is sent, so they do not carry over to the next device.
    form.querySelectorAll("[data-reset-to]").forEach(function (el) { el.value = el.getAttribute("data-reset-to"); });
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
  // A scan ends on Enter/Tab (the scanner's suffix) or where the district's prefix starts the
  // next one; never on a pause on the device-tag and check-in fields (a busy computer delays
  // keys, it does not split scans). The one timing rule is the documented card -> tag case on a
  // page-changing field (the student card, the dashboard's search): a scanner's burst followed
  // by a pause, then a new burst, is two scans. Its gaps are measured on the keys' own
  // timestamps (when the keyboard sent them), not on when this page got round to them.
  var leaving = null;  // keys typed after a page-changing form was sent (another page loads)
  var step = null;     // keys typed while the next check-out step loads in this page

  function stamp(e) { return e.isTrusted && e.timeStamp ? e.timeStamp : performance.now(); }

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

  // Replays keys kept while a step loaded: each finished scan is sent as if just scanned, the
  // unfinished one stays in the field for the keys still coming.
  function replay(field, scans, text) {
    for (var i = 0; i < scans.length; i += 1) {
      if (step) { step.scans = step.scans.concat(scans.slice(i)); step.text += text; return; }
      if (!field) { break; }
      field.value = scans[i];
      finishScan(field);
      field = scanField();
    }
    if (step) { step.text += text; return; }
    if (field) { field.value += text; field.focus(); }
  }

  // The check-out's next step (the student's page after the card) loads in this page, so every
  // key the scanner sends meanwhile is kept here in order: none is lost while a page unloads
  // and the next one starts, none is split off by the wait.
  function loadStep(url) {
    step = { scans: [], text: "" };
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } }).then(function (response) {
      if (!response.ok || response.url.indexOf("/login/") !== -1) { throw new Error("not a step"); }
      return response.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var main = doc.querySelector("main");
        var old = document.querySelector("main");
        if (!main || !old) { throw new Error("not a step"); }
        old.replaceWith(main);
        document.title = doc.title;
        history.pushState({ ledgerStep: true }, "", response.url);
        if (window.htmx) { window.htmx.process(main); }
        var kept = step;
        step = null;
        var field = scanField(main);
        if (field) { field.focus(); }
        replay(field, kept.scans, kept.text);
      });
    }).catch(function () {
      // Not a page this script can show in place (session ended, error): go there, the keys
      // carried over as on any other page change.
      var kept = step;
      step = null;
      carry(kept.scans.length ? kept.scans[0] : kept.text, kept.scans.length > 0);
      window.location.href = url;
    });
  }

  function onScanKey(e) {
    var t = e.target;
    if (step) {
      // The next step is loading: these keys belong to it.
      if (e.key === "Enter" || e.key === "Tab") { if (step.text) { step.scans.push(clean(step.text)); } step.text = ""; }
      else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) { step.text += e.key; }
      else { return; }
      e.preventDefault();
      return;
    }
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
    var now = stamp(e);
    var st = t._scan;
    if (!st || t.value === "") { st = t._scan = { last: 0, n: 0, fast: true }; }
    var gap = now - st.last;
    var prefix = affixes().prefix;
    var tagField = t.form && t.form.hasAttribute("data-scan-form");
    var burstDone = !tagField && st.n >= 4 && st.fast && gap > GAP_MS;
    var prefixStarts = prefix && e.key === prefix.charAt(0) && t.value.indexOf(prefix) === 0 && t.value.length > prefix.length;
    if ((burstDone || prefixStarts) && t.value !== "") {
      var inPlace = t.form && t.form.hasAttribute("data-scan-step");
      var navigates = t.form && !tagField && !inPlace;
      finishScan(t);
      t._scan = { last: now, n: 1, fast: true };
      if (step) { e.preventDefault(); step.text = e.key; }
      else if (navigates) {
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
    if (e.defaultPrevented) { return; }
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
      if (t.form.hasAttribute("data-scan-step")) { loadStep(href); } else { window.location.href = href; }
    } else if (e.key === "Escape") {
      options.forEach(function (a) { a.classList.remove("active"); });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var f = scanField();
    if (f) { f.focus(); }
    var carried = takeCarry();
    if (f && carried && carried.text) {
      f.value = carried.text + f.value;  // keys typed here before this script ran came after
      if (carried.enter) { finishScan(f); }
    }
    document.addEventListener("keydown", onScanKey, true);
    document.addEventListener("keydown", onSuggestKey);
    // Forms are handled on the document, so those of a step loaded in place work the same.
    document.addEventListener("submit", function (e) {
      var form = e.target;
      if (!(form instanceof HTMLFormElement)) { return; }
      if (form.hasAttribute("data-scan-form")) { e.preventDefault(); submitScan(form); return; }
      var field = scanField(form);
      if (!field) { return; }
      field.value = clean(field.value);
      if (form.hasAttribute("data-scan-step") && (form.method || "get").toLowerCase() === "get") {
        // The student card on Check out: the student's page loads in this page.
        e.preventDefault();
        var query = new URLSearchParams(new FormData(form)).toString();
        loadStep(form.action + (form.action.indexOf("?") === -1 ? "?" : "&") + query);
        return;
      }
      // Another page-changing scan form (the dashboard's search): keys that follow go to the
      // next page, not onto this scan.
      leaving = { text: "", enter: false };
    });
    window.addEventListener("popstate", function (ev) {
      if (ev.state && ev.state.ledgerStep !== undefined) { window.location.reload(); }
    });
    if (document.querySelector("form[data-scan-step]")) { history.replaceState({ ledgerStep: false }, ""); }
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
      if (e.defaultPrevented) { return; }
      if (t && t.matches && t.matches("input[data-scan]") && e.key === "Tab" && t.value.trim() !== "") {
        e.preventDefault();
        var form = t.form;
        if (form && form.hasAttribute("data-scan-form")) { submitScan(form); }
        else if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
      }
    });
  });
})();
