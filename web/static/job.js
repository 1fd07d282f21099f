// The solve job page: ask the server for the job's state every second and show it.
// Without JavaScript the page still works: reload it, and the Cancel button is a plain form.
(function () {
  "use strict";

  var box = document.getElementById("job");
  if (!box || box.getAttribute("data-finished") === "true") {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var wasFinished = false;

  function number(value, digits) {
    return value.toLocaleString(undefined, {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  }

  var formats = {
    state: function (data) { return data.state; },
    quality: function (data) { return data.quality; },
    elapsed: function (data) {
      return data.elapsed === null ? "not started" : number(data.elapsed, 1) + " s";
    },
    solutions: function (data) { return String(data.solutions); },
    message: function (data) { return data.message || ""; },
  };

  function show(data) {
    Object.keys(formats).forEach(function (name) {
      var field = box.querySelector('[data-field="' + name + '"]');
      if (field) {
        field.textContent = formats[name](data);
      }
    });
    var state = box.querySelector('[data-field="state"]');
    if (state) {
      state.className = "badge job-" + data.state;
    }
    if (data.finished) {
      var cancel = document.getElementById("job-cancel");
      if (cancel) {
        cancel.hidden = true;
      }
      var link = document.getElementById("job-rota-link");
      if (link && data.rota_url) {
        link.querySelector("a").setAttribute("href", data.rota_url);
        link.hidden = false;
      }
      wasFinished = true;
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (!wasFinished) {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        // The server may be restarting: try again a little later; reloading also works.
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 1000);
})();
