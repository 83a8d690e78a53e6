/* eAkte work surface: keyboard shortcuts, the help overlay, header menus, rows in lists,
   forms saved without leaving the page. Everything works without this file; it only adds. */
(function () {
  "use strict";

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function visible(el) {
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  }

  function activate(el) {
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) {
      el.focus();
      if (el.select && el.tagName !== "SELECT") el.select();
    } else {
      el.click();
    }
  }

  /* ---- the help overlay ---- */
  var help = document.getElementById("shortcut-help");
  function openHelp() {
    if (help && !help.open) help.showModal();
  }
  document.querySelectorAll("[data-open-help]").forEach(function (b) {
    b.addEventListener("click", openHelp);
  });

  /* ---- menus in the header: one open at a time, closed by a click elsewhere or Esc ---- */
  var menus = document.querySelectorAll(".nav-menu details, details.nav-menu");
  menus.forEach(function (d) {
    d.addEventListener("toggle", function () {
      if (d.open) menus.forEach(function (o) { if (o !== d) o.open = false; });
    });
  });
  document.addEventListener("click", function (e) {
    menus.forEach(function (d) { if (d.open && !d.contains(e.target)) d.open = false; });
  });

  /* ---- rows of a list (inbox, search results): j/k move, x selects ---- */
  var table = document.querySelector("[data-rows]");
  function rows() {
    return table ? Array.prototype.slice.call(table.querySelectorAll("[data-row]")) : [];
  }
  function currentRow() {
    var list = rows();
    for (var i = 0; i < list.length; i++) if (list[i].contains(document.activeElement)) return i;
    return -1;
  }
  function focusRow(i) {
    var list = rows();
    if (!list.length) return;
    i = Math.max(0, Math.min(list.length - 1, i));
    list.forEach(function (r) { r.classList.remove("current"); });
    list[i].classList.add("current");
    var link = list[i].querySelector("[data-row-link]") || list[i].querySelector("a");
    if (link) link.focus();
  }
  function toggleRow() {
    var i = currentRow();
    if (i < 0) return;
    var box = rows()[i].querySelector("input[type=checkbox]");
    if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
  }
  var counter = document.querySelector("[data-selected-count]");
  function countSelected() {
    if (!counter || !table) return;
    counter.textContent = table.querySelectorAll("[data-row] input[type=checkbox]:checked").length;
  }
  if (table) {
    table.addEventListener("change", countSelected);
    var all = document.querySelector("[data-select-all]");
    if (all) all.addEventListener("change", function () {
      rows().forEach(function (r) {
        var box = r.querySelector("input[type=checkbox]");
        if (box) box.checked = all.checked;
      });
      countSelected();
    });
    countSelected();
  }

  /* ---- shortcuts ---- */
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    var target = e.target;
    if (e.key === "Escape") {
      if (typing(target)) target.blur();
      return;
    }
    if (typing(target) || (help && help.open)) return;
    var key = e.key;
    if (key === "?") { e.preventDefault(); openHelp(); return; }
    if (key === "/") {
      var search = document.getElementById("header-q");
      if (search) { e.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (table && (key === "j" || key === "k")) {
      e.preventDefault();
      var i = currentRow();
      focusRow(i < 0 ? 0 : i + (key === "j" ? 1 : -1));
      return;
    }
    if (table && key === "x") { e.preventDefault(); toggleRow(); return; }
    if (key.length !== 1) return;
    var els = document.querySelectorAll('[data-key="' + CSS.escape(key) + '"]');
    for (var n = 0; n < els.length; n++) {
      if (visible(els[n]) && !els[n].disabled) {
        e.preventDefault();
        activate(els[n]);
        return;
      }
    }
  });

  /* ---- forms saved without leaving the page ---- */
  document.querySelectorAll("form[data-ajax]").forEach(function (form) {
    var status = form.querySelector("[data-status]");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      }).then(function (r) {
        return r.json().catch(function () { return { ok: false, message: r.statusText }; });
      }).then(function (data) {
        if (data.redirect) { window.location.assign(data.redirect); return; }
        if (status) {
          status.textContent = data.message || "";
          status.className = data.ok ? "flash" : "flash flash-error";
        }
        if (data.ok) {
          form.querySelectorAll("[data-updates]").forEach(function (input) {
            var shown = document.getElementById(input.getAttribute("data-updates"));
            if (shown) shown.textContent = input.value;
          });
        }
      }).catch(function () {
        if (status) { status.textContent = form.getAttribute("data-failed") || "!"; status.className = "flash flash-error"; }
      }).then(function () {
        if (button) button.disabled = false;
      });
    });
  });
})();
