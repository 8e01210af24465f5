// otwatch console: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  var PARTIAL = { "x-otwatch-partial": "1" };

  // Times: stored and sent in UTC; shown in the browser's time zone, with the zone named.
  var zone = "UTC";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { /* keep UTC */ }
  var fmt = null;
  try {
    fmt = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZoneName: "short" });
  } catch (e) { fmt = null; }
  function localize(root) {
    if (!fmt) { return; }
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      if (t.dataset.local) { return; }
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d.getTime())) { return; }
      t.title = t.textContent + " (stored in UTC)";
      t.textContent = fmt.format(d).replace(",", "");
      t.dataset.local = "1";
    });
  }
  function announce(text) {
    var live = document.getElementById("live");
    if (live) { live.textContent = text; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var tz = document.getElementById("tz");
    if (tz) { tz.textContent = "Times in " + zone; }
    localize(document);

    // Selects that apply at once ("Custom range…" shows its from/to fields instead).
    document.querySelectorAll("select.js-autosubmit").forEach(function (s) {
      s.addEventListener("change", function () {
        var custom = s.form.querySelector(".custom-range");
        if (s.classList.contains("js-range") && custom) {
          custom.classList.toggle("on", s.value === "custom");
          if (s.value === "custom") {
            var first = custom.querySelector("input");
            if (first) { first.focus(); }
            return;
          }
        }
        if (s.form.requestSubmit) { s.form.requestSubmit(); } else { s.form.submit(); }
      });
    });

    // Custom time ranges travel in UTC; the fields show and take the browser's local time.
    setupUtcFields();

    // Filter forms leave empty fields out of the URL, so views bookmark cleanly.
    document.querySelectorAll("form[method=get]").forEach(function (f) {
      f.addEventListener("submit", function () {
        f.querySelectorAll("input[name], select[name]").forEach(function (i) {
          if (i.value === "" && i.type !== "checkbox") { i.disabled = true; }
        });
        window.setTimeout(function () {
          f.querySelectorAll("[disabled]").forEach(function (i) { i.disabled = false; });
        }, 0);
      });
    });

    // Confirmations for destructive buttons.
    document.querySelectorAll(".js-confirm").forEach(function (b) {
      b.addEventListener("click", function (ev) {
        if (!window.confirm(b.dataset.confirm || "Are you sure?")) { ev.preventDefault(); }
      });
    });

    // Print / save as PDF.
    document.querySelectorAll(".js-print").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { window.print(); });
    });

    // Tabs switch without a reload; the URL keeps the tab.
    var tabLinks = document.querySelectorAll("a.js-tab");
    tabLinks.forEach(function (a) {
      a.addEventListener("click", function (ev) {
        var key = a.dataset.tab;
        var panel = document.getElementById("tab-" + key);
        if (!panel) { return; }
        ev.preventDefault();
        document.querySelectorAll(".tabpanel").forEach(function (p) { p.hidden = p !== panel; });
        tabLinks.forEach(function (o) {
          if (o === a) { o.setAttribute("aria-current", "page"); } else { o.removeAttribute("aria-current"); }
        });
        var u = new URL(window.location.href);
        u.searchParams.set("tab", key);
        history.replaceState(null, "", u.toString());
        panel.querySelectorAll(".map-wrap").forEach(function (w) { if (w.fit) { w.fit(); } });
      });
    });

    setupHunt();
    setupSelection();
    setupPane();
    setupGroups();
    setupPolling();
    document.querySelectorAll(".map-wrap").forEach(setupMap);
  });

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localValue(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function setupUtcFields() {
    var fields = document.querySelectorAll("input.js-utc");
    if (!fields.length) { return; }
    document.querySelectorAll(".js-zone").forEach(function (z) { z.textContent = zone; });
    fields.forEach(function (i) {
      if (!i.value) { return; }
      var d = new Date(i.value.length === 16 ? i.value + ":00Z" : i.value + "Z");
      if (!isNaN(d.getTime())) { i.value = localValue(d); }
    });
    var forms = [];
    fields.forEach(function (i) { if (i.form && forms.indexOf(i.form) < 0) { forms.push(i.form); } });
    forms.forEach(function (f) {
      f.addEventListener("submit", function () {
        f.querySelectorAll("input.js-utc").forEach(function (i) {
          if (!i.value) { return; }
          var d = new Date(i.value);
          if (!isNaN(d.getTime())) { i.value = d.toISOString().slice(0, 16); }
        });
      });
    });
  }

  // Hunting: Ctrl/Cmd+Enter runs, Enter in the name saves, the caret's place is selected in
  // the editor, and a run's address becomes a link to the query.
  function setupHunt() {
    var q = document.getElementById("q");
    var form = document.getElementById("hunt-form");
    if (!q || !form) { return; }
    function submitWith(id) {
      var b = document.getElementById(id);
      if (form.requestSubmit) { form.requestSubmit(b); } else { b.click(); }
    }
    q.addEventListener("input", function () {
      q.rows = Math.min(Math.max(q.value.split("\n").length + 1, 4), 16);
    });
    q.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submitWith("run"); }
    });
    var name = document.getElementById("save-name");
    if (name) {
      name.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter") { ev.preventDefault(); submitWith("save"); }
      });
    }
    var err = document.getElementById("hunt-error");
    if (err) {
      var line = Number(err.dataset.line) || 1, col = Number(err.dataset.column) || 1;
      var width = Number(err.dataset.width) || 1;
      var lines = q.value.split("\n");
      var start = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) { start += lines[i].length + 1; }
      var here = Array.from(lines[line - 1] || "");
      start += here.slice(0, col - 1).join("").length;
      var end = start + here.slice(col - 1, col - 1 + width).join("").length;
      q.focus();
      q.setSelectionRange(start, Math.max(end, start));
    }
    var results = document.querySelector("[data-testid=results][data-link]");
    if (results && !window.location.search) {
      history.replaceState(null, "", results.dataset.link);
    }
  }

  // Row selection and the bulk bar.
  function setupSelection() {
    var bulk = document.getElementById("bulk");
    if (!bulk) { return; }
    var count = document.getElementById("selcount");
    var all = document.getElementById("allmatch");
    var page = document.getElementById("selpage");
    function update() {
      var n = document.querySelectorAll("input.js-row:checked").length;
      if (all && all.checked) {
        count.textContent = "All matching selected";
      } else {
        count.textContent = n === 0 ? "None selected" : n + " selected";
      }
    }
    document.addEventListener("change", function (ev) {
      var t = ev.target;
      if (t === page) {
        document.querySelectorAll("input.js-row").forEach(function (c) { c.checked = page.checked; });
      }
      if (t === page || t === all || (t.classList && t.classList.contains("js-row"))) { update(); }
    });
    update();
  }

  // The side pane: a row's name opens the alert beside the grid.
  function setupPane() {
    var pane = document.getElementById("pane");
    if (!pane) { return; }
    var opener = null;
    function close() {
      pane.hidden = true;
      pane.innerHTML = "";
      document.querySelectorAll("tr.current").forEach(function (r) { r.classList.remove("current"); });
      if (opener) { opener.focus(); }
    }
    document.addEventListener("click", function (ev) {
      var a = ev.target.closest ? ev.target.closest("a.js-pane") : null;
      if (a && !(ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0)) {
        ev.preventDefault();
        opener = a;
        var back = window.location.pathname + window.location.search;
        fetch(a.dataset.pane + "?back=" + encodeURIComponent(back), { headers: PARTIAL, credentials: "same-origin" })
          .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
          .then(function (html) {
            pane.innerHTML = html;
            pane.hidden = false;
            localize(pane);
            document.querySelectorAll("tr.current").forEach(function (r) { r.classList.remove("current"); });
            var row = a.closest("tr");
            if (row) { row.classList.add("current"); }
            var h = document.getElementById("pane-title");
            if (h) { h.focus(); }
          })
          .catch(function () { window.location.href = a.href; });
        return;
      }
      if (ev.target.closest && ev.target.closest(".js-pane-close")) { close(); }
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && !pane.hidden) { close(); }
    });
  }

  // Grouped grid: a group loads its alerts when opened.
  function setupGroups() {
    var head = document.getElementById("grid-head");
    document.querySelectorAll("details.group[data-rows]").forEach(function (d) {
      d.addEventListener("toggle", function () {
        if (!d.open || d.dataset.loaded || !d.dataset.rows) { return; }
        d.dataset.loaded = "1";
        fetch(d.dataset.rows, { headers: PARTIAL, credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            var body = d.querySelector(".group-body");
            var link = body.innerHTML;
            body.innerHTML = "<table class=\"grid\">" + (head ? head.innerHTML : "") + html + "</table>" +
              "<p>" + link + "</p>";
            localize(body);
          });
      });
    });
  }

  // New alerts appear without a reload: the first page's rows are refreshed in place.
  function setupPolling() {
    var poll = document.getElementById("poll");
    var body = document.getElementById("alert-rows");
    if (!poll || !body || poll.dataset.page !== "1") { return; }
    var every = 15000;
    function seen() {
      var ids = {};
      document.querySelectorAll("#alert-rows tr[data-id]").forEach(function (r) { ids[r.dataset.id] = true; });
      return ids;
    }
    function tick() {
      if (document.visibilityState !== "visible" || document.querySelector("input.js-row:checked")) {
        return;
      }
      fetch(window.location.href, { headers: PARTIAL, credentials: "same-origin", cache: "no-store" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
        .then(function (html) {
          var tpl = document.createElement("template");
          tpl.innerHTML = "<table>" + html + "</table>";
          var fresh = tpl.content.querySelector("tbody");
          var old = document.getElementById("alert-rows");
          if (!fresh || !old) { return; }
          var before = seen();
          var added = 0;
          fresh.querySelectorAll("tr[data-id]").forEach(function (r) {
            if (!before[r.dataset.id]) { r.classList.add("fresh"); added += 1; }
          });
          var current = document.querySelector("tr.current");
          var currentId = current ? current.dataset.id : null;
          old.replaceWith(fresh);
          if (currentId) {
            var again = fresh.querySelector("tr[data-id=\"" + currentId + "\"]");
            if (again) { again.classList.add("current"); }
          }
          localize(fresh);
          var total = document.getElementById("total");
          if (total && fresh.dataset.total) {
            total.textContent = Number(fresh.dataset.total).toLocaleString("en-US");
          }
          if (added > 0) { announce(added + (added === 1 ? " new alert" : " new alerts")); }
        })
        .catch(function () { /* try again next time */ });
    }
    window.setInterval(tick, every);
    window.otwatchPoll = tick;
  }

  // Map: zoom with the buttons, the wheel or + and -; pan by dragging or with the arrow keys.
  function setupMap(wrap) {
    var svg = wrap.querySelector("svg.map");
    if (!svg) { return; }
    var W = Number(svg.dataset.w) || 800, H = Number(svg.dataset.h) || 600;
    var view = { x: 0, y: 0, w: W, h: H };
    function apply() { svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" ")); }
    function zoom(f, cx, cy) {
      var nw = Math.min(Math.max(view.w / f, W / 20), W * 3);
      var nh = nw * (view.h / view.w);
      if (cx === undefined) { cx = view.x + view.w / 2; cy = view.y + view.h / 2; }
      view.x = cx - (cx - view.x) * (nw / view.w);
      view.y = cy - (cy - view.y) * (nh / view.h);
      view.w = nw; view.h = nh;
      apply();
    }
    function fit() { view = { x: 0, y: 0, w: W, h: H }; apply(); }
    wrap.fit = fit;
    wrap.querySelectorAll(".js-zoom").forEach(function (b) {
      b.addEventListener("click", function () {
        if (b.dataset.zoom === "in") { zoom(1.25); } else if (b.dataset.zoom === "out") { zoom(0.8); } else { fit(); }
      });
    });
    function toSvg(ev) {
      var r = svg.getBoundingClientRect();
      var s = Math.max(view.w / r.width, view.h / r.height);
      var ox = (r.width * s - view.w) / 2, oy = (r.height * s - view.h) / 2;
      return { x: view.x - ox + (ev.clientX - r.left) * s, y: view.y - oy + (ev.clientY - r.top) * s, s: s };
    }
    svg.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var p = toSvg(ev);
      zoom(ev.deltaY < 0 ? 1.15 : 1 / 1.15, p.x, p.y);
    }, { passive: false });
    var drag = null, moved = false;
    svg.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) { return; }
      drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, s: toSvg(ev).s };
      moved = false;
    });
    window.addEventListener("pointermove", function (ev) {
      if (!drag) { return; }
      var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) { moved = true; svg.classList.add("dragging"); }
      if (moved) { view.x = drag.vx - dx * drag.s; view.y = drag.vy - dy * drag.s; apply(); }
    });
    window.addEventListener("pointerup", function () { drag = null; svg.classList.remove("dragging"); });
    svg.addEventListener("click", function (ev) { if (moved) { ev.preventDefault(); moved = false; } }, true);
    wrap.addEventListener("keydown", function (ev) {
      if (ev.target !== wrap) { return; }
      var step = view.w / 10;
      var k = ev.key;
      if (k === "+" || k === "=") { zoom(1.25); } else if (k === "-") { zoom(0.8); } else if (k === "0") { fit(); }
      else if (k === "ArrowLeft") { view.x -= step; apply(); } else if (k === "ArrowRight") { view.x += step; apply(); }
      else if (k === "ArrowUp") { view.y -= step; apply(); } else if (k === "ArrowDown") { view.y += step; apply(); }
      else { return; }
      ev.preventDefault();
    });
  }
})();
