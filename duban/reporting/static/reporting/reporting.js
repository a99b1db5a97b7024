/* The entry form's comforts (DHIS2's data entry as the anchor) and the approver's queue.
   No inline handlers: everything is bound here on DOMContentLoaded.
   - Enter moves to the input below, Shift+Enter to the one above (never submits).
   - Pasting a block copied from Excel (tabs and newlines) fills the grid from the focused cell.
   - Live checks as one types mirror the server's type and range checks (Indicator.clean_value),
     with the server's messages rendered into data attributes in the page's language; the
     server checks again on every save, and the data set's rules only there.
   - Autosave: 2 s after the last change, the changed fields go to the autosave route (the same
     save service as the button); the status says 已自动保存 hh:mm.
   - A figure's history: its button shows or hides the row below it; htmx loads the row's
     content on the first click (hx-trigger="click once"), never with the form.
   - The queue's "choose every form" box.
   - The period picker's "whole quarter / whole year" boxes tick their months. */
(function () {
  "use strict";

  function grid(form) {
    // rows of [value input, comment input]: the cells Enter and paste move through
    return Array.from(form.querySelectorAll("tbody tr"))
      .map(function (tr) {
        return Array.from(tr.querySelectorAll('input[type="text"][name^="v:"], input[type="text"][name^="c:"]'));
      })
      .filter(function (row) { return row.length > 0; });
  }

  function position(rows, input) {
    for (var r = 0; r < rows.length; r++) {
      var c = rows[r].indexOf(input);
      if (c >= 0) return [r, c];
    }
    return null;
  }

  function cleanNumber(text) {
    return text.trim().replace(/[,，\s]/g, "");
  }

  // The same reading as Indicator.clean_value; returns a message or "".
  function problem(input) {
    var d = input.dataset;
    var text = cleanNumber(input.value);
    if (text === "") return "";
    if (text.charAt(0) === "=") return d.formula || "";
    if (d.percent && text.slice(-1) === "%") text = text.slice(0, -1).trim();
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
      return (d.nan || "").replace("{value}", "'" + input.value.trim().slice(0, 40) + "'");
    }
    var value = Number(text);
    if (d.whole && !Number.isInteger(value)) return d.whole;
    if (d.places !== undefined && text.indexOf(".") >= 0 && !/[eE]/.test(text)) {
      var decimals = text.split(".")[1].replace(/0+$/, "").length;
      if (decimals > Number(d.places)) return d.placesMsg || "";
    }
    if (d.min !== undefined && value < Number(d.min)) return d.minMsg || "";
    if (d.max !== undefined && value > Number(d.max)) return d.maxMsg || "";
    return "";
  }

  function showProblem(input) {
    if (!input.name || input.name.indexOf("v:") !== 0) return true;
    var message = problem(input);
    var box = input.parentElement.querySelector(".error.live");
    var row = input.closest("tr");
    if (box) {
      box.textContent = message;
      box.hidden = !message;
    }
    input.setAttribute("aria-invalid", message ? "true" : "false");
    if (row) row.classList.toggle("has-error", !!message);
    return !message;
  }

  function setUpEntry(form) {
    var status = form.querySelector(".autosave");
    var timer = null;
    var inflight = false;

    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.target.tagName !== "INPUT" || event.isComposing) return;
      var rows = grid(form);
      var at = position(rows, event.target);
      if (!at) return;
      event.preventDefault();
      var next = rows[at[0] + (event.shiftKey ? -1 : 1)];
      if (next && next[at[1]]) {
        next[at[1]].focus();
        next[at[1]].select();
      }
    });

    form.addEventListener("paste", function (event) {
      var rows = grid(form);
      var at = position(rows, event.target);
      var text = (event.clipboardData || window.clipboardData).getData("text");
      if (!at || !/[\t\n]/.test(text.replace(/\r?\n$/, ""))) return;
      event.preventDefault();
      var lines = text.replace(/\r/g, "").replace(/\n$/, "").split("\n");
      lines.forEach(function (line, i) {
        var row = rows[at[0] + i];
        if (!row) return;
        line.split("\t").forEach(function (cell, j) {
          var input = row[at[1] + j];
          if (!input) return;
          input.value = cell.trim();
          input.dispatchEvent(new Event("input", { bubbles: true }));
        });
      });
    });

    form.addEventListener("input", function (event) {
      if (event.target.tagName !== "INPUT") return;
      showProblem(event.target);
      if (!form.dataset.autosave) return;
      clearTimeout(timer);
      timer = setTimeout(save, 2000);
    });

    function save() {
      if (inflight) {
        timer = setTimeout(save, 1000);
        return;
      }
      var inputs = Array.from(form.querySelectorAll('input[name^="v:"]'));
      if (!inputs.every(showProblem)) {
        if (status) status.textContent = form.dataset.autosaveFailed || "";
        return;
      }
      var data = new FormData(form);
      inflight = true;
      fetch(form.dataset.autosave, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      })
        .then(function (response) {
          return response.json().then(function (body) { return [response.ok, body]; });
        })
        .then(function (result) {
          var body = result[1];
          if (!result[0]) {
            var first = (body.errors || [])[0];
            if (status) status.textContent = (form.dataset.autosaveFailed || "") + (first ? "：" + first.message : "");
            return;
          }
          // What was saved is now what the page shows: the next save sends only new changes.
          data.forEach(function (value, name) {
            var initial = form.querySelector('input[type="hidden"][name="i' + name + '"]');
            if (initial) initial.value = value;
          });
          form.querySelector('input[name="version"]').value = body.version;
          if (status) status.textContent = body.saved;
        })
        .catch(function () {
          if (status) status.textContent = form.dataset.autosaveFailed || "";
        })
        .finally(function () { inflight = false; });
    }
  }

  function setUpHistory(button) {
    button.addEventListener("click", function () {
      var row = document.getElementById(button.getAttribute("aria-controls"));
      if (!row) return;
      row.hidden = !row.hidden;
      button.setAttribute("aria-expanded", row.hidden ? "false" : "true");
    });
  }

  function setUpPeriodGroups(form) {
    form.querySelectorAll("input[data-group-of]").forEach(function (all) {
      var boxes = form.querySelectorAll('input[data-in-group~="' + all.dataset.groupOf + '"]:not(:disabled)');
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
      });
    });
  }

  function setUpQueue(form) {
    var all = form.querySelector("#batch-all");
    if (!all) return;
    all.addEventListener("change", function () {
      form.querySelectorAll('input[name="form"]').forEach(function (box) { box.checked = all.checked; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.entry").forEach(setUpEntry);
    document.querySelectorAll("form.batch").forEach(setUpQueue);
    document.querySelectorAll("button.history-toggle").forEach(setUpHistory);
    document.querySelectorAll("form.open-periods").forEach(setUpPeriodGroups);
  });
})();
