/* The week board: focus the side panel when it opens, close it, and drag a person
   from the panel onto another cell (the panel's "Move…" list does the same by keyboard). */
(function () {
  "use strict";
  var board = document.getElementById("board");
  var panel = document.getElementById("panel");
  if (!board || !panel) { return; }

  function closePanel(event) {
    if (event) { event.preventDefault(); }
    panel.innerHTML = "";
  }

  panel.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-panel]");
    if (close) { closePanel(event); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel.innerHTML.trim() !== "") { closePanel(event); }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === panel) {
      var title = document.getElementById("panel-title");
      if (title && !panel.querySelector("[role=alert]")) { title.focus({preventScroll: true}); }
    }
  });

  // Drag and drop: only on a board that edits the rota, only with a mouse.
  if (board.dataset.editable !== "yes") { return; }
  var dragged = null;
  panel.addEventListener("dragstart", function (event) {
    var item = event.target.closest("[data-move]");
    if (!item) { return; }
    dragged = item.dataset;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.staff);
    board.classList.add("dragging");
  });
  panel.addEventListener("dragend", function () {
    dragged = null;
    board.classList.remove("dragging");
  });
  board.addEventListener("dragover", function (event) {
    if (dragged && event.target.closest("td.bc")) { event.preventDefault(); }
  });
  board.addEventListener("drop", function (event) {
    var cell = event.target.closest("td.bc");
    if (!dragged || !cell) { return; }
    event.preventDefault();
    var status = document.getElementById("board-status");
    var token = document.querySelector("meta[name=csrf-token]").content;
    var values = {
      csrf_token: token,
      revision: status ? status.dataset.revision : "",
      action: "move",
      staff_id: dragged.staff,
      date: dragged.date, session_id: dragged.session, site_id: dragged.site,
      to_date: cell.dataset.date, to_session_id: cell.dataset.session, to_site_id: cell.dataset.site,
      cell_date: cell.dataset.date, cell_session: cell.dataset.session, cell_site: cell.dataset.site
    };
    var form = document.querySelector(".board-filters");
    if (form) {
      ["role", "skill", "site", "group"].forEach(function (name) {
        var field = form.elements[name];
        if (field && field.value) { values[name] = field.value; }
      });
    }
    window.htmx.ajax("POST", board.dataset.editUrl, {target: "#panel", swap: "innerHTML", values: values});
  });
}());
