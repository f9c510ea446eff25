// Rollcall console: small progressive enhancements on top of htmx. Every flow works without it.
(function () {
  "use strict";
  function dialog() { return document.getElementById("dialog"); }

  // Content loaded into the dialog opens it; a form inside it that succeeds closes it unless
  // the server sent something to show there.
  document.addEventListener("htmx:afterSwap", function (event) {
    var d = dialog();
    if (d && event.detail.target === d && d.innerHTML.trim() !== "" && !d.open) {
      d.showModal();
      var first = d.querySelector("[autofocus], input:not([type=hidden]), button");
      if (first) { first.focus(); }
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    // Show validation and conflict messages (4xx) where they were asked for.
    var status = event.detail.xhr.status;
    if (status === 409 || status === 422 || status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    if (status === 401) {
      window.location.href = "/sign-in?expired=1";
    }
  });
  document.addEventListener("rollcall:close-dialog", function () {
    var d = dialog();
    if (d && d.open) { d.close(); d.innerHTML = ""; }
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("[data-close-dialog]")) {
      event.preventDefault();
      var d = dialog();
      if (d) { d.close(); d.innerHTML = ""; }
    }
  });

  // A row's ⋯ menu closes with Escape (focus back on its button) and when clicking elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.open = false;
      var summary = menu.querySelector("summary");
      if (summary) { summary.focus(); }
    });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.open = false; }
    });
  });

  // Bulk selection: "select all" and a live count on the buttons.
  function refreshBulk() {
    var boxes = document.querySelectorAll("input[name=ids]");
    var picked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
    var label = document.getElementById("selected-count");
    if (label) { label.textContent = picked + " selected"; }
    document.querySelectorAll("[data-bulk]").forEach(function (b) { b.disabled = picked === 0; });
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.id === "select-all") {
      document.querySelectorAll("input[name=ids]").forEach(function (b) { b.checked = target.checked; });
    }
    if (target && (target.name === "ids" || target.id === "select-all")) { refreshBulk(); }
  });
  document.addEventListener("htmx:afterSettle", refreshBulk);

  // A report's filter: show the people of one kind only.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || !target.matches || !target.matches("select[data-filter]")) { return; }
    var table = document.getElementById(target.getAttribute("data-filter"));
    if (!table) { return; }
    table.querySelectorAll("tbody tr").forEach(function (row) {
      row.hidden = target.value !== "" && row.getAttribute("data-kind") !== target.value;
    });
  });

  // Upload progress on the import form.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var bar = document.getElementById("upload-progress");
    var form = document.getElementById("import-form");
    if (!bar || !form || !form.contains(event.target)) { return; }
    if (event.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
  document.addEventListener("htmx:afterRequest", function () {
    var bar = document.getElementById("upload-progress");
    if (bar) { bar.hidden = true; bar.value = 0; }
  });
  document.addEventListener("DOMContentLoaded", refreshBulk);
})();
