/* The document page's viewer: one page at a time, zoom and rotate for viewing (nothing is
   changed in the document). Without script every page is shown one below the other. */
(function () {
  "use strict";
  var viewer = document.querySelector("[data-viewer]");
  if (!viewer) return;
  var pages = Array.prototype.slice.call(viewer.querySelectorAll("[data-page]"));
  var tools = viewer.querySelector("[data-viewer-tools]");
  var label = viewer.querySelector("[data-page-label]");
  if (!pages.length || !tools) return;
  var current = 0, zoom = 1, turn = 0;
  tools.hidden = false;
  viewer.classList.add("one-page");

  function show() {
    pages.forEach(function (p, i) { p.hidden = i !== current; });
    var img = pages[current].querySelector("img");
    img.style.width = Math.round(zoom * 100) + "%";
    img.style.transform = turn ? "rotate(" + turn + "deg)" : "";
    pages[current].classList.toggle("turned", turn % 180 !== 0);
    if (label) label.textContent = label.getAttribute("data-template")
      .replace("{n}", current + 1).replace("{total}", pages.length);
  }
  function act(name) {
    if (name === "next") current = Math.min(pages.length - 1, current + 1);
    if (name === "prev") current = Math.max(0, current - 1);
    if (name === "in") zoom = Math.min(3, zoom + 0.25);
    if (name === "out") zoom = Math.max(0.5, zoom - 0.25);
    if (name === "rotate") turn = (turn + 90) % 360;
    show();
  }
  tools.querySelectorAll("[data-view]").forEach(function (b) {
    b.addEventListener("click", function () { act(b.getAttribute("data-view")); });
  });
  show();
})();
