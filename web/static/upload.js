// Upload with drag and drop and a progress bar per file. Without JavaScript the form posts
// normally and the server answers with a result page.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData) { return; }
  var input = document.getElementById("files");
  var zone = document.getElementById("dropzone");
  var list = document.getElementById("upload-list");

  function send(file) {
    var item = document.createElement("li");
    var name = document.createElement("strong");
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    var note = document.createElement("span");
    item.appendChild(name); item.appendChild(document.createTextNode(" "));
    item.appendChild(bar); item.appendChild(document.createTextNode(" ")); item.appendChild(note);
    list.appendChild(item);

    var data = new FormData();
    form.querySelectorAll("input[type=hidden], select").forEach(function (el) {
      data.append(el.name, el.value);
    });
    data.append("files", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.json);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
    };
    xhr.onload = function () {
      bar.value = 100;
      var result = null;
      try { result = JSON.parse(xhr.responseText).results[0]; } catch (err) { result = null; }
      if (xhr.status === 200 && result) {
        item.className = "upload-" + result.outcome;
        note.textContent = result.message + " ";
        if (result.document) {
          var link = document.createElement("a");
          link.href = result.document;
          link.textContent = form.dataset.open || "Öffnen";
          note.appendChild(link);
        }
      } else {
        item.className = "upload-failed";
        note.textContent = (result && result.message) || xhr.statusText || "Fehler";
      }
    };
    xhr.onerror = function () { item.className = "upload-failed"; note.textContent = "Netzwerkfehler"; };
    xhr.send(data);
  }

  function sendAll(files) { Array.prototype.forEach.call(files, send); }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    sendAll(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) { sendAll(e.dataTransfer.files); });
})();
