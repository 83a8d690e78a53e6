/* Type-ahead for inputs with data-suggest="<url>": a listbox of suggestions under the field
   (ARIA combobox). The answer is JSON {"items": [{"label", "detail", "href"?, "value"?}]}.
   A suggestion with href is opened; one with value is written into the field named by
   data-suggest-fill, and the form named by data-suggest-submit is sent, if any.
   Without script the field is an ordinary text field of its form. */
(function () {
  "use strict";
  var uid = 0;

  function setup(input) {
    var id = "suggest-" + ++uid;
    var list = document.createElement("ul");
    list.id = id;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", input.getAttribute("data-suggest-label") || "");
    list.hidden = true;
    input.parentNode.insertBefore(list, input.nextSibling);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id);
    // stale: the field changed since the list was drawn; Enter then waits for the new answer
    var items = [], active = -1, timer = null, seq = 0, stale = false;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function mark(i) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o) { o.setAttribute("aria-selected", "false"); });
      active = i;
      if (i >= 0 && options[i]) {
        options[i].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", options[i].id);
        options[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(i) {
      var item = items[i];
      if (!item) return false;
      close();
      if (item.href) { window.location.assign(item.href); return true; }
      var fill = document.querySelector(input.getAttribute("data-suggest-fill"));
      if (fill) fill.value = item.value;
      input.value = item.label;
      var submit = input.getAttribute("data-suggest-submit");
      if (submit) document.querySelector(submit).requestSubmit();
      return true;
    }

    function render(data) {
      stale = false;
      items = data.items || [];
      list.textContent = "";
      items.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var strong = document.createElement("strong");
        strong.textContent = item.label;
        li.appendChild(strong);
        if (item.detail) {
          var span = document.createElement("span");
          span.className = "muted";
          span.textContent = " " + item.detail;
          li.appendChild(span);
        }
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      if (!items.length && data.empty) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = data.empty;
        list.appendChild(none);
      }
      list.hidden = !list.childNodes.length;
      input.setAttribute("aria-expanded", list.hidden ? "false" : "true");
      // The first suggestion is preselected where the field's form files: Enter takes it.
      mark(items.length && input.hasAttribute("data-suggest-first") ? 0 : -1);
    }

    function fetchNow() {
      var text = input.value.trim();
      if (text.length < 2) { items = []; stale = false; close(); return; }
      var mine = ++seq;
      var url = input.getAttribute("data-suggest");
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(text), {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      }).then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) { if (mine === seq) render(data); })
        .catch(function () { close(); });
    }

    input.addEventListener("input", function () {
      var fill = document.querySelector(input.getAttribute("data-suggest-fill"));
      if (fill) fill.value = "";
      stale = true;
      clearTimeout(timer);
      timer = setTimeout(fetchNow, 120);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (list.hidden) { fetchNow(); return; }
        e.preventDefault();
        var n = items.length;
        if (!n) return;
        mark(e.key === "ArrowDown" ? (active + 1) % n : (active - 1 + n) % n);
      } else if (e.key === "Enter") {
        if (stale && input.hasAttribute("data-suggest-first")) {
          // typed and pressed Enter before the answer came: take the first of the new answer
          e.preventDefault();
          clearTimeout(timer);
          fetchNow();
          var wait = setInterval(function () {
            if (!stale) { clearInterval(wait); if (items.length) choose(0); }
          }, 20);
          setTimeout(function () { clearInterval(wait); }, 5000);
        } else if (!list.hidden && active >= 0) {
          e.preventDefault();
          choose(active);
        }
      } else if (e.key === "Escape") {
        if (!list.hidden) { e.preventDefault(); e.stopPropagation(); close(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  document.querySelectorAll("input[data-suggest]").forEach(setup);
})();
